// An x509-limbo harness for Botan 2's path validation (`Botan::x509_path_validate`).
//
// C++ rather than Botan's Python binding: the binding's verify() has no usage parameter (its
// FFI passes Usage_Type::UNSPECIFIED) and takes whole seconds, so it could check neither
// serverAuth nor a fractional validation_time. Here: the served chain (peer first, then
// untrusted_intermediates in served order), an in-memory store of the anchors, the default
// Path_Validation_Restrictions (no revocation, minimum key strength 110), the peer name as
// hostname, Usage_Type TLS_SERVER_AUTH or TLS_CLIENT_AUTH, and validation_time.
//
// Reads a limbo testcase file on stdin, writes a limbo results file on stdout (../README.md).

#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/pkix_enums.h>
#include <botan/version.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <csignal>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace {

// Features that only describe certificate content: Botan sees that content itself, so running
// the case is faithful. Anything else (has-crl, max-chain-depth, unknown tags) is skipped.
const std::set<std::string> kContentFeatures = {
    "has-policy-constraints",          "has-cert-policies",
    "no-cert-policies",                "pedantic-public-suffix-wildcard",
    "name-constraint-dn",              "pedantic-webpki-subscriber-key",
    "pedantic-webpki-eku",             "pedantic-serial-number",
    "pedantic-rfc5280",                "rfc5280-incompatible-with-webpki",
    "denial-of-service",
};

// Symbolic names of Botan's status codes (pkix_enums.h), so a context names its code.
const std::map<int, const char*> kStatusNames = {
    {500, "CERT_SERIAL_NEGATIVE"},
    {501, "DN_TOO_LONG"},
    {1000, "SIGNATURE_METHOD_TOO_WEAK"},
    {1001, "UNTRUSTED_HASH"},
    {1002, "NO_REVOCATION_DATA"},
    {1003, "NO_MATCHING_CRLDP"},
    {2000, "CERT_NOT_YET_VALID"},
    {2001, "CERT_HAS_EXPIRED"},
    {3000, "CERT_ISSUER_NOT_FOUND"},
    {3001, "CANNOT_ESTABLISH_TRUST"},
    {3002, "CERT_CHAIN_LOOP"},
    {3003, "CHAIN_LACKS_TRUST_ROOT"},
    {3004, "CHAIN_NAME_MISMATCH"},
    {4000, "POLICY_ERROR"},
    {4001, "INVALID_USAGE"},
    {4002, "CERT_CHAIN_TOO_LONG"},
    {4003, "CA_CERT_NOT_FOR_CERT_ISSUER"},
    {4004, "NAME_CONSTRAINT_ERROR"},
    {4008, "CERT_NAME_NOMATCH"},
    {4009, "UNKNOWN_CRITICAL_EXTENSION"},
    {4010, "DUPLICATE_CERT_EXTENSION"},
    {4506, "DUPLICATE_CERT_POLICY"},
    {5000, "CERT_IS_REVOKED"},
    {5002, "SIGNATURE_ERROR"},
    {5003, "CERT_PUBKEY_INVALID"},
    {5004, "SIGNATURE_ALGO_UNKNOWN"},
    {5005, "SIGNATURE_ALGO_BAD_PARAMS"},
};

struct Outcome {
  std::string actual;  // SUCCESS, FAILURE or SKIPPED
  std::optional<std::string> context;
};

struct Skip {
  std::string reason;
};

// What one case asks of x509_path_validate.
struct Plan {
  Botan::Usage_Type usage;
  std::string hostname;  // empty: no name check
  std::optional<std::chrono::system_clock::time_point> at;
};

bool non_empty(const json& testcase, const char* field) {
  auto found = testcase.find(field);
  if (found == testcase.end() || found->is_null()) return false;
  return !found->is_array() || !found->empty();
}

// RFC 3339 (`2024-03-01T00:00:00.999+00:00`, `...Z`) to a time point, keeping milliseconds.
std::chrono::system_clock::time_point parse_time(const std::string& text) {
  std::tm fields{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &fields.tm_year, &fields.tm_mon,
                  &fields.tm_mday, &fields.tm_hour, &fields.tm_min, &fields.tm_sec,
                  &consumed) != 6) {
    throw std::invalid_argument("not an RFC 3339 time");
  }
  fields.tm_year -= 1900;
  fields.tm_mon -= 1;
  std::chrono::milliseconds fraction{0};
  std::size_t at = static_cast<std::size_t>(consumed);
  if (at < text.size() && text[at] == '.') {
    std::string digits;
    for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at) {
      digits += text[at];
    }
    digits = (digits + "000").substr(0, 3);
    fraction = std::chrono::milliseconds(std::stoi(digits));
  }
  long offset_seconds = 0;
  std::string zone = text.substr(at);
  if (zone == "Z" || zone == "z") {
    offset_seconds = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    long minutes = std::stol(zone.substr(1, 2)) * 60 + std::stol(zone.substr(4, 2));
    offset_seconds = (zone[0] == '+' ? 1 : -1) * minutes * 60;
  } else {
    throw std::invalid_argument("no time zone offset");
  }
  std::time_t seconds = timegm(&fields) - offset_seconds;
  return std::chrono::system_clock::from_time_t(seconds) + fraction;
}

Plan plan_for(const json& testcase) {
  for (const auto& feature : testcase.value("features", json::array())) {
    if (!kContentFeatures.count(feature.get<std::string>())) {
      throw Skip{"feature `" + feature.get<std::string>() + "` not supported by this harness"};
    }
  }
  if (non_empty(testcase, "crls")) throw Skip{"CRLs not supported by this harness"};
  if (non_empty(testcase, "max_chain_depth")) {
    throw Skip{"max_chain_depth not supported: x509_path_validate has no depth limit"};
  }
  if (non_empty(testcase, "signature_algorithms")) {
    throw Skip{"signature_algorithms not supported by this harness"};
  }
  if (non_empty(testcase, "key_usage")) throw Skip{"key_usage not supported by this harness"};
  if (non_empty(testcase, "expected_peer_names")) {
    throw Skip{"expected_peer_names not supported: Botan checks one hostname"};
  }
  Plan plan;
  std::string kind = testcase.at("validation_kind").get<std::string>();
  std::string usage_name;
  if (kind == "SERVER") {
    plan.usage = Botan::Usage_Type::TLS_SERVER_AUTH;
    usage_name = "serverAuth";
  } else if (kind == "CLIENT") {
    plan.usage = Botan::Usage_Type::TLS_CLIENT_AUTH;
    usage_name = "clientAuth";
  } else {
    throw Skip{"validation_kind " + kind + " not supported"};
  }
  for (const auto& eku : testcase.value("extended_key_usage", json::array())) {
    if (eku.get<std::string>() != usage_name) {
      throw Skip{"extended_key_usage " + eku.get<std::string>() + " beyond " + usage_name +
                 " not supported"};
    }
  }
  auto name = testcase.find("expected_peer_name");
  if (name != testcase.end() && !name->is_null()) {
    std::string name_kind = name->at("kind").get<std::string>();
    if (name_kind != "DNS" && name_kind != "IP") {
      throw Skip{"expected_peer_name of kind " + name_kind + " not supported"};
    }
    // Botan's TLS client passes the name it connected to, IP literal or not, as the hostname.
    plan.hostname = name->at("value").get<std::string>();
  }
  auto time = testcase.find("validation_time");
  if (time != testcase.end() && !time->is_null()) {
    try {
      plan.at = parse_time(time->get<std::string>());
    } catch (const std::exception& error) {
      throw Skip{"validation_time `" + time->get<std::string>() + "` unreadable: " + error.what()};
    }
  }
  return plan;
}

// A certificate of the case that Botan cannot decode; `what()` is the context.
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Botan::X509_Certificate parse(const std::string& field, const std::string& pem) {
  try {
    Botan::DataSource_Memory source(pem);
    return Botan::X509_Certificate(source);
  } catch (const std::exception& error) {
    throw ParseError(field + ": " + error.what());
  }
}

// The subject CN (first in encoding order), else `sha256:` and 16 hex digits, as the Rust side.
std::string label(const Botan::X509_Certificate& cert) {
  std::string common_name = cert.subject_dn().get_first_attribute("X520.CommonName");
  if (!common_name.empty()) return common_name;
  std::string hex;
  for (char c : cert.fingerprint("SHA-256")) {
    if (c != ':') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return "sha256:" + hex.substr(0, 16);
}

std::string describe(Botan::Certificate_Status_Code code) {
  int number = static_cast<int>(code);
  auto name = kStatusNames.find(number);
  std::string symbol = name != kStatusNames.end() ? name->second : "code " + std::to_string(number);
  return "Botan::Certificate_Status_Code::" + symbol + " (" + std::to_string(number) +
         "): " + Botan::to_string(code);
}

Outcome evaluate(const json& testcase) {
  Plan plan;
  try {
    plan = plan_for(testcase);
  } catch (const Skip& skip) {
    return {"SKIPPED", skip.reason};
  }
  try {
    Botan::Certificate_Store_In_Memory anchors;
    const auto& trusted = testcase.at("trusted_certs");
    for (std::size_t i = 0; i < trusted.size(); ++i) {
      anchors.add_certificate(
          parse("trusted_certs[" + std::to_string(i) + "]", trusted[i].get<std::string>()));
    }
    std::vector<Botan::X509_Certificate> served;
    served.push_back(parse("peer_certificate", testcase.at("peer_certificate").get<std::string>()));
    const auto& untrusted = testcase.at("untrusted_intermediates");
    for (std::size_t i = 0; i < untrusted.size(); ++i) {
      served.push_back(parse("untrusted_intermediates[" + std::to_string(i) + "]",
                             untrusted[i].get<std::string>()));
    }
    Botan::Path_Validation_Restrictions restrictions;
    Botan::Path_Validation_Result result = Botan::x509_path_validate(
        served, restrictions, anchors, plan.hostname, plan.usage,
        plan.at.value_or(std::chrono::system_clock::now()));
    if (!result.successful_validation()) return {"FAILURE", describe(result.result())};
    std::string chain = "chain: ";
    const auto& path = result.cert_path();
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (i > 0) chain += " <- ";
      chain += label(*path[i]);
    }
    return {"SUCCESS", chain};
  } catch (const ParseError& error) {
    return {"FAILURE", std::string(error.what())};
  } catch (const std::exception& error) {
    // Botan reports some rejections by throwing (e.g. an undecodable extension met while
    // validating); they are the library's verdict, not a harness fault.
    return {"FAILURE", std::string("exception: ") + error.what()};
  }
}

// Botan 2.19 enumerates every candidate path before validating any; on limbo's pathological
// chains that takes effectively forever. So each case runs in a forked child under this
// deadline, and a case that overruns (or crashes the child) is reported, not waited for.
constexpr int kCaseDeadlineMs = 5000;

json outcome_json(const Outcome& outcome) {
  return {{"actual_result", outcome.actual},
          {"context", outcome.context ? json(*outcome.context) : json(nullptr)}};
}

// A case the harness could not get a verdict for. SKIPPED, because the library gave no answer;
// the context starts with `timeout:` or `crash:` so a consumer can tell it from a real skip.
Outcome no_verdict(const std::string& context) { return {"SKIPPED", context}; }

Outcome evaluate_bounded(const json& testcase) {
  int fds[2];
  if (pipe(fds) != 0) return evaluate(testcase);
  std::cout.flush();
  pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return evaluate(testcase);
  }
  if (child == 0) {
    close(fds[0]);
    std::string bytes = outcome_json(evaluate(testcase)).dump(-1, ' ', false,
                                                              json::error_handler_t::replace);
    std::size_t written = 0;
    while (written < bytes.size()) {
      ssize_t n = write(fds[1], bytes.data() + written, bytes.size() - written);
      if (n <= 0) _exit(1);
      written += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string bytes;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCaseDeadlineMs);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd readable{fds[0], POLLIN, 0};
    int ready = poll(&readable, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      break;
    }
    char buffer[65536];
    ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (timed_out) {
    return no_verdict("timeout: x509_path_validate did not return within " +
                      std::to_string(kCaseDeadlineMs / 1000) + " s; the case was abandoned");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return no_verdict("crash: the validating process ended with status " +
                      std::to_string(status));
  }
  try {
    json answer = json::parse(bytes);
    Outcome outcome{answer.at("actual_result").get<std::string>(), std::nullopt};
    if (!answer.at("context").is_null()) outcome.context = answer.at("context").get<std::string>();
    return outcome;
  } catch (const std::exception& error) {
    return no_verdict(std::string("crash: unreadable answer from the validating process: ") +
                      error.what());
  }
}

}  // namespace

int main() {
  json input;
  try {
    std::ostringstream text;
    text << std::cin.rdbuf();
    input = json::parse(text.str());
  } catch (const std::exception& error) {
    std::cerr << "botan harness: cannot read the testcase JSON on stdin: " << error.what() << "\n";
    return 2;
  }
  json results = json::array();
  for (const auto& testcase : input.at("testcases")) {
    json result = outcome_json(evaluate_bounded(testcase));
    result["id"] = testcase.at("id");
    results.push_back(result);
  }
  std::string version = std::to_string(Botan::version_major()) + "." +
                        std::to_string(Botan::version_minor()) + "." +
                        std::to_string(Botan::version_patch());
  json output = {{"version", 1}, {"harness", "botan " + version}, {"results", results}};
  // Invalid UTF-8 in a native message is replaced, not a reason to fail the whole batch.
  std::cout << output.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  return 0;
}
