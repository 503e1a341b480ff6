// Registration tokens: the file's grammar with line-numbered errors, and
// what each token lets an agent claim.
#include <gtest/gtest.h>

#include "coordinator/auth/agent_tokens.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::auth {
namespace {

const std::string kHash(64, 'a');

TEST(AgentTokens, ParsesTokensAndTheirAllowances) {
  auto tokens = ParseAgentTokens("- name: lab-gpu\n  token_sha256: " + kHash +
                                     "\n  device_kinds: [gpu, cpu]\n  tags: [mi300x]\n- name: any\n  token_sha256: " +
                                     std::string(64, 'b') + "\n",
                                 "tokens.yaml");
  ASSERT_TRUE(tokens.has_value()) << tokens.error().ToString();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].device_kinds, (std::vector<std::string>{"gpu", "cpu"}));
  EXPECT_EQ(FindAgentToken(*tokens, kHash)->name, "lab-gpu");
  EXPECT_EQ(FindAgentToken(*tokens, std::string(64, 'c')), nullptr);
  EXPECT_TRUE(CheckAdmission((*tokens)[0], {"gpu", "cpu"}, {"mi300x"}).ok());
  Status gpu_on_cpu = CheckAdmission((*tokens)[0], {"sim"}, {});
  EXPECT_EQ(gpu_on_cpu.code(), Status::Code::kPermissionDenied);
  EXPECT_NE(gpu_on_cpu.message().find("does not allow 'sim' devices"), std::string::npos);
  EXPECT_EQ(CheckAdmission((*tokens)[0], {"gpu"}, {"h200"}).code(), Status::Code::kPermissionDenied);
  EXPECT_TRUE(CheckAdmission((*tokens)[1], {"gpu", "sim"}, {"anything"}).ok()) << "no lists: anything";
}

TEST(AgentTokens, BadFilesNameTheLineAndTheFix) {
  struct Case {
    std::string text, expected;
  };
  for (const auto& [text, expected] : std::vector<Case>{
           {"", "no tokens"},
           {"name: x", "must be a list"},
           {"- name: x\n  token_sha256: secret\n", "never the token itself"},
           {"- token_sha256: " + kHash + "\n", "name is missing"},
           {"- name: x\n  token_sha256: " + kHash + "\n- name: x\n  token_sha256: " + std::string(64, 'b') + "\n",
            "tokens.yaml:3: name 'x' appears twice"},
           {"- name: x\n  token_sha256: " + kHash + "\n- name: y\n  token_sha256: " + kHash + "\n",
            "same token_sha256"},
           {"- name: x\n  token_sha256: " + kHash + "\n  device_kind: [cpu]\n", "tokens.yaml:3: unknown field"},
           {"- name: x\n  token_sha256: " + kHash + "\n  tags: mi300x\n", "tags must be a list"},
           {"- [unclosed\n", "tokens.yaml:"},
       }) {
    auto tokens = ParseAgentTokens(text, "tokens.yaml");
    ASSERT_FALSE(tokens.has_value()) << text;
    EXPECT_NE(tokens.error().message().find(expected), std::string::npos) << tokens.error().message();
  }
}

TEST(Credentials, SecretsAreFreshHexAndBearerHeadersRoundTrip) {
  const std::string a = rpc::NewSecret(), b = rpc::NewSecret();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(rpc::BearerToken(rpc::BearerHeader(a)), a);
  EXPECT_EQ(rpc::BearerToken("Basic abc"), "");
  EXPECT_EQ(rpc::SecretHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace gauntlet::auth

#include "coordinator/api/cross_site.h"

namespace gauntlet::api {
namespace {

TEST(CrossSite, OnlyStateChangesFromAnotherOriginAreRefused) {
  EXPECT_EQ(CrossSiteProblem("GET", "http://evil.example", "farm:8080", "cross-site"), "") << "GET changes nothing";
  EXPECT_EQ(CrossSiteProblem("POST", "", "farm:8080", ""), "") << "curl and scripts send no Origin";
  EXPECT_EQ(CrossSiteProblem("POST", "http://farm:8080", "farm:8080", "same-origin"), "");
  EXPECT_NE(CrossSiteProblem("POST", "http://evil.example", "farm:8080", ""), "");
  EXPECT_NE(CrossSiteProblem("POST", "http://farm:8081", "farm:8080", ""), "") << "another port is another origin";
  EXPECT_NE(CrossSiteProblem("POST", "null", "farm:8080", ""), "");
  EXPECT_NE(CrossSiteProblem("POST", "", "farm:8080", "cross-site"), "");
  EXPECT_NE(CrossSiteProblem("DELETE", "http://evil.example", "farm:8080", ""), "");
}

}  // namespace
}  // namespace gauntlet::api

#include "coordinator/auth/job_tokens.h"
#include "coordinator/exposure.h"

namespace gauntlet {
namespace {

Exposure At(std::string grpc, std::string http) {
  Exposure exposure;
  exposure.grpc_host = std::move(grpc);
  exposure.http_host = std::move(http);
  return exposure;
}

TEST(Exposure, OnlyLoopbackRunsUnprotectedUnlessInsecureIsGiven) {
  EXPECT_EQ(ExposureProblem(At("127.0.0.1", "127.0.0.1")), "");
  EXPECT_EQ(ExposureProblem(At("localhost", "")), "") << "HTTP off";
  EXPECT_EQ(ExposureProblem(At("[::1]", "::1")), "");
  const std::string open = ExposureProblem(At("0.0.0.0", "127.0.0.1"));
  EXPECT_NE(open.find("--grpc 0.0.0.0 is reachable from other machines"), std::string::npos) << open;
  EXPECT_NE(open.find("no TLS (--tls-cert and --tls-key), API tokens (--admin-token-file) and agent registration "
                      "tokens (--agent-tokens)"),
            std::string::npos)
      << open;
  EXPECT_NE(open.find("--insecure"), std::string::npos) << "the message names the way out";
  EXPECT_NE(ExposureProblem(At("127.0.0.1", "10.1.2.3")).find("--http 10.1.2.3"), std::string::npos);
  Exposure insecure = At("0.0.0.0", "0.0.0.0");
  insecure.insecure_allowed = true;
  EXPECT_EQ(ExposureProblem(insecure), "");
}

TEST(Exposure, BeyondLoopbackNeedsTlsApiTokensAndAgentTokensAllThree) {
  Exposure exposure = At("10.0.0.5", "10.0.0.5");
  exposure.tls = true;
  exposure.api_tokens = true;
  EXPECT_EQ(MissingProtection(exposure), "agent registration tokens (--agent-tokens)");
  EXPECT_NE(ExposureProblem(exposure), "");
  exposure.agent_tokens = true;
  EXPECT_EQ(ExposureProblem(exposure), "") << "fully protected, it may listen anywhere";
  exposure.tls = false;
  EXPECT_NE(ExposureProblem(exposure).find("no TLS (--tls-cert and --tls-key):"), std::string::npos);
}

TEST(JobTokens, EachAttemptHasItsOwnAndOnlyTheKeyMakesThem) {
  auth::JobTokens tokens("key-one");
  EXPECT_EQ(tokens.For(7), tokens.For(7)) << "the same after a restart: derived, never stored";
  EXPECT_NE(tokens.For(7), tokens.For(8));
  EXPECT_TRUE(tokens.Matches(7, tokens.For(7)));
  EXPECT_FALSE(tokens.Matches(8, tokens.For(7))) << "another attempt's token";
  EXPECT_FALSE(tokens.Matches(7, "")) << "no token";
  EXPECT_FALSE(auth::JobTokens("key-two").Matches(7, tokens.For(7))) << "another farm's key";
  EXPECT_EQ(tokens.For(7).size(), 64u);
}

}  // namespace
}  // namespace gauntlet
