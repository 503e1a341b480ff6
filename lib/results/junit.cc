#include "lib/results/junit.h"

#include <cstdlib>
#include <map>

#include <pugixml.hpp>

namespace gauntlet::results {
namespace {

constexpr size_t kMessageChars = 2000;

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.pop_back();
  if (text.size() > kMessageChars) text = text.substr(0, kMessageChars) + "...";
  return text;
}

// The message attribute, else the element's text, else the captured output:
// ctest leaves the message empty and puts the test's output in system-out.
std::string FailureText(const pugi::xml_node& testcase, const pugi::xml_node& failure) {
  std::string text = failure.attribute("message").as_string();
  std::string body = failure.text().as_string();
  if (text.empty()) text = body;
  for (const char* stream : {"system-err", "system-out"}) {
    if (!text.empty()) break;
    text = testcase.child(stream).text().as_string();
  }
  return Trimmed(text);
}

void ReadCase(const pugi::xml_node& testcase, const std::string& suite_name, std::vector<TestCase>* cases,
              std::map<std::string, size_t>* seen) {
  TestCase out;
  out.suite = testcase.attribute("classname").as_string(suite_name.c_str());
  out.name = testcase.attribute("name").as_string();
  out.time_s = testcase.attribute("time").as_double(0);
  if (auto failure = testcase.child("failure")) {
    out.status = CaseStatus::kFailed;
    out.message = FailureText(testcase, failure);
  } else if (auto error = testcase.child("error")) {
    out.status = CaseStatus::kError;
    out.message = FailureText(testcase, error);
  } else if (auto skipped = testcase.child("skipped")) {
    out.status = CaseStatus::kSkipped;
    out.message = Trimmed(skipped.attribute("message").as_string(skipped.text().as_string()));
  } else if (std::string status = testcase.attribute("status").as_string(); status == "notrun" || status == "disabled") {
    out.status = CaseStatus::kSkipped;  // gtest's DISABLED_ tests and ctest's not-run ones.
  }
  for (const char* rerun : {"flakyFailure", "flakyError", "rerunFailure", "rerunError"}) {
    if (testcase.child(rerun) && !IsFailure(out.status) && out.status != CaseStatus::kSkipped) out.flaky = true;
  }
  const std::string key = out.suite + '\x1f' + out.name;
  if (auto earlier = seen->find(key); earlier != seen->end()) {
    // A rerun in the same file: the last word is the case's, and a pass after
    // a failure is flaky.
    TestCase& first = (*cases)[earlier->second];
    const bool failed_before = IsFailure(first.status) || first.flaky;
    first.flaky = failed_before && !IsFailure(out.status);
    first.status = out.status;
    first.time_s += out.time_s;
    if (!out.message.empty() || !IsFailure(out.status)) first.message = out.message;
    return;
  }
  (*seen)[key] = cases->size();
  cases->push_back(std::move(out));
}

void ReadSuite(const pugi::xml_node& suite, const std::string& parent, std::vector<TestCase>* cases,
               std::map<std::string, size_t>* seen) {
  const std::string name = suite.attribute("name").as_string(parent.c_str());
  for (const auto& child : suite.children()) {
    if (std::string_view(child.name()) == "testcase") ReadCase(child, name, cases, seen);
    if (std::string_view(child.name()) == "testsuite") ReadSuite(child, name, cases, seen);
  }
}

}  // namespace

StatusOr<ParsedResults> ParseJunit(const std::string& text, const std::string& source) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(text.data(), text.size());
  if (!parsed) {
    return Err(Status::InvalidArgument(source + ": not JUnit XML: " + parsed.description() + " at byte " +
                                       std::to_string(parsed.offset)));
  }
  pugi::xml_node root = document.document_element();
  const std::string_view root_name = root.name();
  if (root_name != "testsuites" && root_name != "testsuite") {
    return Err(Status::InvalidArgument(source + ": not JUnit XML: the root element is <" + std::string(root_name) +
                                       ">, not <testsuites> or <testsuite>"));
  }
  ParsedResults results;
  std::map<std::string, size_t> seen;
  if (root_name == "testsuite") {
    ReadSuite(root, "", &results.cases, &seen);
  } else {
    for (const auto& suite : root.children("testsuite")) ReadSuite(suite, "", &results.cases, &seen);
  }
  return results;
}

}  // namespace gauntlet::results
