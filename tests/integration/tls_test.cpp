// ocopd over HTTPS with a self-signed certificate (scripts/make-test-cert.sh),
// and the client's refusals: a certificate it was not told to trust, and a
// password over plain HTTP to another machine.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>

#include "tests/client/test_home.h"
#include "tests/integration/harness.h"

namespace ocop::testing {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  static std::string MakeCert(const std::string& dir) {
    std::string cmd = std::string(OCOP_SOURCE_DIR) + "/scripts/make-test-cert.sh " + dir + " > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return dir + "/ocopd.crt";
  }
  void SetUp() override {
    cert_ = MakeCert(dir_.Sub("tls"));
    std::ofstream(dir_.Sub("ocopd.properties")) << "tls.certificate = " << dir_.Sub("tls") << "/ocopd.crt\n"
                                                << "tls.private_key = " << dir_.Sub("tls") << "/ocopd.key\n";
    server_ = std::make_unique<ServerProcess>(dir_.Sub("server"),
                                              std::vector<std::string>{"--config", dir_.Sub("ocopd.properties")});
    ASSERT_TRUE(server_->running());
    ASSERT_EQ(server_->url().rfind("https://", 0), 0u) << server_->url();
    ASSERT_TRUE(server_->AddUser("lan", "officer", "08800"));
  }
  TempDir dir_;
  std::string cert_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(TlsTest, SyncsOverHttpsWithTheCaGivenAtInit) {
  Device lan(dir_.Sub("lan"), server_->url());
  ASSERT_EQ(lan.Run({"init", "--commune", "08800", "--server", server_->url(), "--ca", cert_}).code, 0);
  auto login = lan.Run({"login", "--user", "lan", "--password-stdin"}, "matkhau123\n");
  ASSERT_EQ(login.code, 0) << login.err;
  ASSERT_FALSE(lan.NewIdea("Ổi Đôn Nhân").empty());
  auto s = lan.Run({"sync", "--json"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"pending\":0"), std::string::npos) << s.out;
}

TEST_F(TlsTest, RefusesACertificateItWasNotToldToTrust) {
  std::string other = MakeCert(dir_.Sub("other"));
  Device lan(dir_.Sub("lan"), server_->url());
  ASSERT_EQ(lan.Run({"init", "--commune", "08800"}).code, 0);
  auto login = lan.Run({"login", "--user", "lan", "--password-stdin", "--server", server_->url(), "--ca", other},
                       "matkhau123\n");
  EXPECT_EQ(login.code, 6) << login.err;
  EXPECT_NE(login.err.find("certificate"), std::string::npos) << login.err;
  // Nor with no CA at all (the system store does not know a self-signed one).
  Device binh(dir_.Sub("binh"), server_->url());
  ASSERT_EQ(binh.Run({"init", "--commune", "08800"}).code, 0);
  login = binh.Run({"login", "--user", "lan", "--password-stdin", "--server", server_->url()}, "matkhau123\n");
  EXPECT_EQ(login.code, 6) << login.err;
}

TEST_F(TlsTest, RefusesAPasswordOverPlainHttpToAnotherMachine) {
  Device lan(dir_.Sub("lan"), server_->url());
  ASSERT_EQ(lan.Run({"init", "--commune", "08800"}).code, 0);
  // Refused before any connection is made (this address is never contacted).
  auto login = lan.Run({"login", "--user", "lan", "--password-stdin", "--server", "http://192.0.2.10:8080"}, "matkhau123\n");
  EXPECT_EQ(login.code, 3) << login.err;
  EXPECT_NE(login.err.find("plain HTTP"), std::string::npos) << login.err;
  // A bad --ca file is refused with what is wrong.
  std::ofstream(dir_.Sub("not-a-cert.pem")) << "hello";
  login = lan.Run({"login", "--user", "lan", "--password-stdin", "--server", server_->url(), "--ca", dir_.Sub("not-a-cert.pem")},
                  "matkhau123\n");
  EXPECT_EQ(login.code, 3) << login.err;
  EXPECT_NE(login.err.find("PEM"), std::string::npos) << login.err;
}

}  // namespace
}  // namespace ocop::testing

namespace ocop::testing {
namespace {

size_t KeepHeader(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The console's session cookie over HTTPS carries Secure: the browser never
// sends it over plain HTTP.
TEST_F(TlsTest, TheConsoleCookieIsSecureUnderHttps) {
  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  std::string url = server_->url() + "/v1/session", headers, body;
  std::string request = R"({"user":"lan","password":"matkhau123"})";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, cert_.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.c_str());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, KeepHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, KeepHeader);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  EXPECT_EQ(code, 200) << body;
  size_t at = headers.find("Set-Cookie: ocop_session=");
  ASSERT_NE(at, std::string::npos) << headers;
  std::string cookie = headers.substr(at, headers.find('\n', at) - at);
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
}

}  // namespace
}  // namespace ocop::testing
