// TLS on a real farm, with certificates openssl makes here: the CLI, the
// agents and a browser's HTTPS reach the coordinator only when they trust
// its CA; with --tls-ca every agent must present a certificate; SIGHUP
// swaps the serving certificate while a job runs, and a bad pair on SIGHUP
// leaves the good one serving.
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

namespace fs = std::filesystem;

// Two CAs; a coordinator certificate from each (for 127.0.0.1); an agent
// client certificate from the first.
class Certificates {
 public:
  explicit Certificates(const std::string& dir) : dir_(dir + "/pki") {
    fs::create_directories(dir_);
    std::ofstream(dir_ + "/server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
    std::ofstream(dir_ + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    for (const std::string ca : {"ca1", "ca2"}) {
      Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
               Path(ca + ".key"), "-out", Path(ca + ".pem"), "-days", "2", "-subj", "/CN=gauntlet test " + ca});
    }
    Issue("server1", "ca1", "server.ext");
    Issue("server2", "ca2", "server.ext");
    Issue("agent", "ca1", "client.ext");
    std::ofstream(Path("both.pem")) << ReadFile(Path("ca1.pem")) << ReadFile(Path("ca2.pem"));
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  void Issue(const std::string& name, const std::string& ca, const std::string& extensions) {
    Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             Path(name + ".key"), "-out", Path(name + ".csr"), "-subj", "/CN=" + name});
    Openssl({"x509", "-req", "-in", Path(name + ".csr"), "-CA", Path(ca + ".pem"), "-CAkey", Path(ca + ".key"),
             "-CAcreateserial", "-out", Path(name + ".pem"), "-days", "2", "-extfile", Path(extensions)});
    fs::permissions(Path(name + ".key"), fs::perms::owner_read | fs::perms::owner_write);
  }
  void Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CliResult made = Farm::Run(args, dir_ + "/openssl-" + std::to_string(runs_++) + ".log");
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }

  std::string dir_;
  int runs_ = 0;
};

CliResult Status(Farm& farm, const std::vector<std::string>& tls_flags, const std::string& log) {
  std::vector<std::string> argv = {Farm::BinDir() + "/gauntlet", "--coordinator", farm.address()};
  argv.insert(argv.end(), tls_flags.begin(), tls_flags.end());
  argv.push_back("agents");
  return Farm::Run(argv, farm.dir() + "/" + log + ".log");
}

bool HttpsHealthy(int port, const std::string& ca) {
  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(ca.c_str());
  client.enable_server_certificate_verification(true);
  auto reply = client.Get("/healthz");
  return reply && reply->status == 200;
}

TEST(TlsTest, OnlyClientsThatTrustTheCaConnectAndEveryAgentNeedsItsCertificate) {
  Farm farm("tls-verify");
  Certificates pki(farm.dir());
  farm.AddCoordinatorFlags({"--tls-cert", pki.Path("server1.pem"), "--tls-key", pki.Path("server1.key"), "--tls-ca",
                            pki.Path("ca1.pem")});
  farm.UseTlsCa(pki.Path("ca1.pem"));
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1",
                  {"--tls-ca", pki.Path("ca1.pem"), "--tls-cert", pki.Path("agent.pem"), "--tls-key",
                   pki.Path("agent.key")});
  const int64_t sweep = farm.Submit("name: one\njobs: [{name: a, kind: exec, command: \"echo over tls\"}]");
  EXPECT_TRUE(farm.WaitForSweep(sweep).succeeded()) << "submitted, run and reported over (mutual) TLS";

  CliResult trusted = Status(farm, {"--tls-ca", pki.Path("ca1.pem")}, "cli-ca1");
  EXPECT_EQ(trusted.exit_code, 0) << trusted.output;
  EXPECT_NE(trusted.output.find("node-a"), std::string::npos) << trusted.output;
  CliResult wrong_ca = Status(farm, {"--tls-ca", pki.Path("ca2.pem")}, "cli-ca2");
  EXPECT_NE(wrong_ca.exit_code, 0) << wrong_ca.output;
  EXPECT_NE(wrong_ca.output.find("cannot reach the coordinator"), std::string::npos) << wrong_ca.output;
  CliResult plain = Status(farm, {}, "cli-plain");
  EXPECT_NE(plain.exit_code, 0) << "a client without TLS gets nothing: " << plain.output;

  // An agent that trusts the coordinator but has no certificate of its own.
  farm.StartAgent("no-cert", "cpu:1", {"--tls-ca", pki.Path("ca1.pem")});
  EXPECT_TRUE(Farm::WaitUntil([&] {
    return farm.AgentLog("no-cert").find("requires agents to present a client certificate") != std::string::npos;
  })) << farm.AgentLog("no-cert");
  EXPECT_EQ(Status(farm, {"--tls-ca", pki.Path("ca1.pem")}, "cli-after").output.find("no-cert"), std::string::npos)
      << "it never joined";

  EXPECT_TRUE(HttpsHealthy(farm.http_port(), pki.Path("ca1.pem"))) << "the board serves HTTPS with the same pair";
  EXPECT_FALSE(HttpsHealthy(farm.http_port(), pki.Path("ca2.pem"))) << "and fails against the wrong CA";
  httplib::Client cleartext("127.0.0.1", farm.http_port());
  auto refused = cleartext.Get("/healthz");
  EXPECT_FALSE(refused && refused->status == 200) << "no plain HTTP beside HTTPS";
}

TEST(TlsTest, AKeyThatIsNotTheCertificatesStopsTheStartNamingTheFlag) {
  Farm farm("tls-bad-pair");
  Certificates pki(farm.dir());
  CliResult mismatched = Farm::Run({Farm::BinDir() + "/gauntlet-coordinator", "--db", farm.dir() + "/x.db", "--grpc",
                                    "127.0.0.1:0", "--http", "off", "--tls-cert", pki.Path("server1.pem"),
                                    "--tls-key", pki.Path("server2.key")},
                                   farm.dir() + "/mismatched.log");
  EXPECT_EQ(mismatched.exit_code, 2) << mismatched.output;
  EXPECT_NE(mismatched.output.find("--tls-key " + pki.Path("server2.key") + " is not the key of --tls-cert"),
            std::string::npos)
      << mismatched.output;
  CliResult open = Farm::Run({Farm::BinDir() + "/gauntlet-coordinator", "--db", farm.dir() + "/y.db", "--artifacts",
                              farm.dir() + "/artifacts", "--grpc",
                              "0.0.0.0:0", "--http", "off", "--tls-cert", pki.Path("server1.pem"), "--tls-key",
                              pki.Path("server1.key")},
                             farm.dir() + "/open.log");
  EXPECT_EQ(open.exit_code, 1) << open.output;
  EXPECT_NE(open.output.find("has no API tokens (--admin-token-file) and agent registration tokens"),
            std::string::npos)
      << "TLS alone does not make an open port safe: " << open.output;
}

TEST(TlsTest, SighupSwapsTheCertificateWhileAJobRunsAndABadPairLeavesTheOldOne) {
  Farm farm("tls-reload");
  Certificates pki(farm.dir());
  const std::string cert = farm.dir() + "/serving.pem";
  const std::string key = farm.dir() + "/serving.key";
  fs::copy_file(pki.Path("server1.pem"), cert);
  fs::copy_file(pki.Path("server1.key"), key);
  farm.AddCoordinatorFlags({"--tls-cert", cert, "--tls-key", key});
  farm.UseTlsCa(pki.Path("both.pem"));
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1", {"--tls-ca", pki.Path("both.pem")});
  const std::string go = farm.dir() + "/go";
  const int64_t sweep = farm.Submit("name: held\njobs: [{name: held, kind: exec, command: \"while [ ! -f " + go +
                                    " ]; do sleep 0.05; done; echo finished\"}]");
  const int64_t job = farm.Jobs(sweep).at(0).id();
  farm.WaitForJob(job, [](const v1::Job& j) { return j.state() == v1::JOB_STATE_RUNNING; });
  EXPECT_NE(Status(farm, {"--tls-ca", pki.Path("ca2.pem")}, "before").exit_code, 0);

  fs::copy_file(pki.Path("server2.pem"), cert, fs::copy_options::overwrite_existing);
  fs::copy_file(pki.Path("server2.key"), key, fs::copy_options::overwrite_existing);
  farm.SignalCoordinator(SIGHUP);
  int polls = 0;
  EXPECT_TRUE(Farm::WaitUntil([&] {
    return Status(farm, {"--tls-ca", pki.Path("ca2.pem")}, "after-" + std::to_string(polls++)).exit_code == 0;
  })) << "new connections get the second CA's certificate";
  EXPECT_NE(Status(farm, {"--tls-ca", pki.Path("ca1.pem")}, "old-ca").exit_code, 0) << "and no longer the first's";

  // A half-finished renewal: the key no longer matches. Refused, and the
  // pair in use stays.
  std::ofstream(key, std::ios::trunc) << ReadFile(pki.Path("server1.key"));
  farm.SignalCoordinator(SIGHUP);
  EXPECT_TRUE(Farm::WaitUntil([&] {
    return ReadFile(farm.dir() + "/coordinator.log").find("certificates not reloaded") != std::string::npos;
  }));
  EXPECT_EQ(Status(farm, {"--tls-ca", pki.Path("ca2.pem")}, "kept").exit_code, 0);

  std::ofstream(go) << "\n";
  const v1::Sweep done = farm.WaitForSweep(sweep);
  EXPECT_TRUE(done.succeeded()) << "the running job never noticed";
  EXPECT_EQ(farm.Job(job).attempts_size(), 1) << "nor ran twice";
}

}  // namespace
}  // namespace gauntlet::testing
