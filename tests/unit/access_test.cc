// The pure cores of API access: the role policy (every ControlService
// method has one), roles and lifetimes as typed, the limit on failed
// authentications, the token registry, and reading tokens and peers off a
// request.
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

#include "coordinator/api/access_gate.h"
#include "coordinator/api/http_gate.h"
#include "coordinator/auth/failure_limiter.h"
#include "coordinator/auth/roles.h"
#include "coordinator/core/api_tokens.h"
#include "gauntlet/v1/control.grpc.pb.h"
#include "lib/rpc/credentials.h"

namespace gauntlet {
namespace {

using auth::Role;

TEST(RolesTest, EveryControlMethodHasAPolicyAndOnlyReadsAreUnaudited) {
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(v1::ControlService::service_full_name());
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = service->method(i)->name();
    auto policy = auth::ControlMethodPolicy(method);
    ASSERT_TRUE(policy.has_value()) << method << " needs an entry in coordinator/auth/roles.cc";
    if (policy->role == Role::kViewer) EXPECT_FALSE(policy->audited) << method;
    if (policy->role == Role::kSubmitter) EXPECT_TRUE(policy->audited) << method;
  }
  EXPECT_FALSE(auth::ControlMethodPolicy("NotAMethod").has_value());
  EXPECT_EQ(auth::ControlMethodPolicy("SubmitSweep")->role, Role::kSubmitter);
  EXPECT_EQ(auth::ControlMethodPolicy("DrainAgent")->role, Role::kAdmin);
  EXPECT_EQ(auth::ControlMethodPolicy("ListJobs")->role, Role::kViewer);
}

TEST(RolesTest, RolesOrderAndParse) {
  EXPECT_TRUE(auth::Allows(Role::kAdmin, Role::kSubmitter));
  EXPECT_TRUE(auth::Allows(Role::kSubmitter, Role::kSubmitter));
  EXPECT_FALSE(auth::Allows(Role::kViewer, Role::kSubmitter));
  EXPECT_EQ(*auth::ParseRole("submitter"), Role::kSubmitter);
  auto bad = auth::ParseRole("root");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("role 'root' is not one of viewer"), std::string::npos);
}

TEST(RolesTest, HttpRoutesFailClosed) {
  EXPECT_FALSE(auth::HttpRouteRole("GET", "/healthz").has_value());
  EXPECT_FALSE(auth::HttpRouteRole("POST", "/login").has_value());
  EXPECT_FALSE(auth::HttpRouteRole("GET", "/static/board.css").has_value());
  EXPECT_EQ(auth::HttpRouteRole("GET", "/api/v1/sweeps"), Role::kViewer);
  EXPECT_EQ(auth::HttpRouteRole("POST", "/agents/a/drain"), Role::kAdmin);
  EXPECT_EQ(auth::HttpRouteRole("DELETE", "/api/v1/anything-new"), Role::kAdmin);
}

TEST(RolesTest, TokenLifetimes) {
  EXPECT_EQ(*auth::ParseTokenLifetime(""), 0);
  EXPECT_EQ(*auth::ParseTokenLifetime("90m"), 90 * 60'000);
  EXPECT_EQ(*auth::ParseTokenLifetime("30d"), 30 * 86'400'000LL);
  EXPECT_EQ(*auth::ParseTokenLifetime("2w"), 14 * 86'400'000LL);
  for (const char* bad : {"30", "d", "0d", "-1d", "3y", "1.5d"}) {
    auto parsed = auth::ParseTokenLifetime(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message().find("such as 90m, 12h, 30d or 2w"), std::string::npos);
  }
}

TEST(FailureLimiterTest, BlocksPastTheLimitUntilTheWindowEnds) {
  auth::FailureLimiter limiter(3, 1000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.BlockedFor("10.0.0.5", 100), 0);
    limiter.Failed("10.0.0.5", 100);
  }
  EXPECT_EQ(limiter.BlockedFor("10.0.0.5", 600), 500);
  EXPECT_EQ(limiter.BlockedFor("10.0.0.6", 600), 0) << "another peer is not held up";
  EXPECT_EQ(limiter.BlockedFor("10.0.0.5", 1100), 0);
  limiter.Failed("10.0.0.5", 1100);
  EXPECT_EQ(limiter.BlockedFor("10.0.0.5", 1100), 0) << "a new window starts afresh";
}

TEST(FailureLimiterTest, ManyPeersStayBounded) {
  auth::FailureLimiter limiter(1, 1000, /*max_callers=*/4);
  for (int i = 0; i < 100; ++i) limiter.Failed("peer" + std::to_string(i), i);
  EXPECT_GT(limiter.BlockedFor("peer99", 99), 0) << "the newest peers are still counted";
  EXPECT_EQ(limiter.BlockedFor("peer0", 99), 0) << "the oldest were dropped";
}

TEST(ApiTokensTest, OpenUntilTheFirstTokenThenEveryCallNeedsOne) {
  core::ApiTokens tokens;
  auto open = tokens.Authenticate("", "10.0.0.5", 0);
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->anonymous);
  EXPECT_EQ(open->role, Role::kAdmin);
  tokens.Put(rpc::SecretHash("gnt_viewer"), {"dash", Role::kViewer, /*expires_at_ms=*/5000, 0});
  tokens.Put(rpc::SecretHash("gnt_admin"), {"ops", Role::kAdmin, 0, 0});
  EXPECT_EQ(tokens.Authenticate("", "10.0.0.5", 0).error().code(), Status::Code::kUnauthenticated);
  auto viewer = tokens.Authenticate("gnt_viewer", "10.0.0.5", 4999);
  ASSERT_TRUE(viewer);
  EXPECT_EQ(viewer->name, "dash");
  EXPECT_FALSE(viewer->anonymous);
  EXPECT_EQ(tokens.Authenticate("gnt_viewer", "10.0.0.5", 5000).error().code(), Status::Code::kUnauthenticated)
      << "expired";
  EXPECT_EQ(tokens.LiveAdmins("", 0), 1);
  EXPECT_EQ(tokens.LiveAdmins("ops", 0), 0);
  tokens.SetRevoked("ops", 10);
  EXPECT_EQ(tokens.Authenticate("gnt_admin", "10.0.0.6", 20).error().code(), Status::Code::kUnauthenticated);
  tokens.SetRevoked("dash", 10);
  EXPECT_TRUE(tokens.enforced()) << "revoking every token does not open the farm again";
}

TEST(ApiTokensTest, GuessingIsCutOffPerPeer) {
  core::ApiTokens tokens;
  tokens.Put(rpc::SecretHash("gnt_admin"), {"ops", Role::kAdmin, 0, 0});
  int exhausted = 0;
  for (int i = 0; i < 30; ++i) {
    exhausted += tokens.Authenticate("gnt_guess" + std::to_string(i), "10.0.0.9", 1000).error().code() ==
                 Status::Code::kResourceExhausted;
  }
  EXPECT_EQ(exhausted, 10);
  EXPECT_EQ(tokens.Authenticate("gnt_admin", "10.0.0.9", 1000).error().code(), Status::Code::kResourceExhausted);
  EXPECT_TRUE(tokens.Authenticate("gnt_admin", "10.0.0.8", 1000)) << "other hosts are not held up";
  EXPECT_TRUE(tokens.Authenticate("gnt_admin", "10.0.0.9", 61'000)) << "the window ended";
  EXPECT_TRUE(tokens.Authenticate("", "10.0.0.7", 1000).error().code() == Status::Code::kUnauthenticated);
}

TEST(AccessGateTest, PeersAndCookies) {
  EXPECT_EQ(api::PeerHost("ipv4:10.0.0.5:51234"), "10.0.0.5");
  EXPECT_EQ(api::PeerHost("ipv6:[::1]:51234"), "::1");
  EXPECT_EQ(api::PeerHost("10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(api::PeerHost("::1"), "::1");
  EXPECT_EQ(api::CookieValue("a=1; gauntlet_token=gnt_x; b=2", "gauntlet_token"), "gnt_x");
  EXPECT_EQ(api::CookieValue("gauntlet_token_old=1", "gauntlet_token"), "");
  EXPECT_EQ(api::CookieValue("", "gauntlet_token"), "");
}

}  // namespace
}  // namespace gauntlet
