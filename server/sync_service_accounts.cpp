// The sync service's accounts: creation, roles and units, login, tokens.
#include "server/sync_service.h"

#include <algorithm>
#include "shared/receipt.h"

#include <set>

#include "server/store/file_store.h"
#include "server/password.h"
#include "shared/dates.h"
#include "shared/evaluation.h"
#include "shared/ids.h"
#include "shared/localisation.h"
#include "shared/text.h"
#include "shared/workflow.h"
#include "sync/carried.h"
#include "sync/codec.h"
#include "sync/columns.h"
#include "sync/merge.h"
#include "sync/patch.h"


namespace ocop::server {

using json::Object;
using json::Var;

// ---- accounts ----

// The rules every account obeys, whoever writes it: officers sit on a commune,
// coordinators on a unit above communes, administrators anywhere.
Status SyncService::CheckAccount(const std::string& role, const std::string& unit) const {
  if (role != "officer" && role != "coordinator" && role != "admin")
    return Status::Invalid("role must be officer, coordinator or admin");
  auto units = Units();
  const Unit* u = units->Find(unit);
  if (!u) return Status::Invalid("unknown unit code '" + unit + "'");
  bool leaf = units->Children(unit).empty();
  if (role == "officer" && !leaf) return Status::Invalid("an officer belongs to a commune; " + unit + " has units below it");
  if (role == "coordinator" && leaf) return Status::Invalid("a coordinator belongs to a unit above communes; " + unit + " is a commune");
  return Status::Ok();
}

// New accounts and moves go to units still in force; accounts already in a
// closed unit keep working until an administrator moves them.
Status SyncService::CheckUnitOpen(const std::string& unit) const {
  const Unit* u = Units()->Find(unit);
  if (u && !u->valid_to.empty())
    return Status::Invalid("unit " + unit + " (" + u->name + ") was closed on " + dates::ToDisplay(u->valid_to) +
                           "; choose the unit that replaced it");
  return Status::Ok();
}

Status SyncService::CheckNewAccount(const AuthUser* admin, const std::string& name, const std::string& role,
                                    const std::string& unit, const std::string& password, AccountProblems* out) {
  out->clear();
  auto problem = [&](const char* member, Status s) { out->emplace_back(member, std::move(s)); };
  bool name_ok = true;
  if (name.empty() || name.size() > 64) {
    problem("name", Status::Invalid("user name must be 1 to 64 characters"));
    name_ok = false;
  } else {
    for (char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
        problem("name", Status::Invalid("user name may hold only letters, digits, '.', '_' and '-'"));
        name_ok = false;
        break;
      }
  }
  if (name_ok) {
    // "Admin26" beside "admin26" would be two accounts a person cannot tell apart.
    // Names are ASCII (checked above), so folding ASCII case is folding all case.
    std::vector<UserRow> existing;
    Status s = store_.ListUsers(&existing);
    if (!s.ok()) return s;
    auto fold = [](std::string t) {
      for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return t;
    };
    for (const auto& u : existing)
      if (fold(u.name) == fold(name)) {
        problem("name", Status(Code::kAlreadyExists, "a user named '" + u.name +
                                                         "' exists already (user names are the same in upper and lower case)"));
        break;
      }
  }
  if (role != "officer" && role != "coordinator" && role != "admin") {
    problem("role", Status::Invalid("role must be officer, coordinator or admin"));
  } else {
    Status s = admin && !Units()->IsWithin(unit, admin->unit) ? Status::Denied("unit " + unit + " is outside your scope")
                                                             : CheckAccount(role, unit);
    if (s.ok()) s = CheckUnitOpen(unit);
    if (!s.ok()) problem("unit", s);
  }
  if (password.size() < 8) problem("password", Status::Invalid("password must have at least 8 characters"));
  // The answer's HTTP status is the first problem's: a refusal before a clash before a typing mistake.
  auto rank = [](const Status& s) { return s.code() == Code::kPermissionDenied ? 0 : s.code() == Code::kAlreadyExists ? 1 : 2; };
  std::stable_sort(out->begin(), out->end(), [&](const auto& a, const auto& b) { return rank(a.second) < rank(b.second); });
  return Status::Ok();
}

Status SyncService::CreateChecked(const AuthUser* admin, const std::string& name, const std::string& role,
                                  const std::string& unit, const std::string& password) {
  AccountProblems problems;
  Status s = CheckNewAccount(admin, name, role, unit, password, &problems);
  if (!s.ok()) return s;
  if (!problems.empty()) return problems.front().second;
  return store_.CreateUser({name, role, unit, HashPassword(password, limits_.pbkdf2_iterations), false});
}

Status SyncService::AddUser(const std::string& name, const std::string& role, const std::string& unit,
                            const std::string& password) {
  return CreateChecked(nullptr, name, role, unit, password);
}

Status SyncService::AddUserAs(const AuthUser& admin, const std::string& name, const std::string& role,
                              const std::string& unit, const std::string& password) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators manage accounts");
  return CreateChecked(&admin, name, role, unit, password);
}

Status SyncService::ListUsers(const AuthUser& admin, std::vector<UserRow>* out) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators manage accounts");
  std::vector<UserRow> all;
  Status s = store_.ListUsers(&all);
  if (!s.ok()) return s;
  auto units = Units();
  out->clear();
  for (auto& u : all) {
    if (!units->IsWithin(u.unit, admin.unit)) continue;
    u.password_hash.clear();  // never leaves the store's side
    out->push_back(std::move(u));
  }
  return Status::Ok();
}

Status SyncService::UpdateUser(const AuthUser& admin, const std::string& name, const UserUpdate& change) {
  if (!admin.IsAdmin()) return Status::Denied("only administrators manage accounts");
  UserRow row;
  Status s = store_.GetUser(name, &row);
  if (s.code() == Code::kNotFound) return Status::NotFound("no user '" + name + "'");
  if (!s.ok()) return s;
  auto units = Units();
  // An account outside the administrator's scope is answered as absent.
  if (!units->IsWithin(row.unit, admin.unit)) return Status::NotFound("no user '" + name + "' in your scope");
  if (name == admin.name && ((change.disabled && *change.disabled) || (change.role && *change.role != row.role) ||
                             (change.unit && *change.unit != row.unit)))
    return Status::Invalid("you cannot disable your own account or change its role or unit; ask another administrator");
  if (change.role) row.role = *change.role;
  if (change.unit) {
    if (!units->IsWithin(*change.unit, admin.unit)) return Status::Denied("unit " + *change.unit + " is outside your scope");
    if (*change.unit != row.unit && !(s = CheckUnitOpen(*change.unit)).ok()) return s;
    row.unit = *change.unit;
  }
  s = CheckAccount(row.role, row.unit);
  if (!s.ok()) return s;
  bool end_sessions = false;
  if (change.password) {
    if (change.password->size() < 8) return Status::Invalid("password must have at least 8 characters");
    row.password_hash = HashPassword(*change.password, limits_.pbkdf2_iterations);
    end_sessions = true;
  }
  if (change.disabled) {
    end_sessions = end_sessions || (*change.disabled && !row.disabled);
    row.disabled = *change.disabled;
  }
  // A new role or unit changes what the account may see: its devices log in again.
  if (change.role || change.unit) end_sessions = true;
  s = store_.UpdateUser(row);
  if (!s.ok()) return s;
  return end_sessions ? store_.RevokeUserTokens(name) : Status::Ok();
}

Status SyncService::Login(const std::string& user, const std::string& password, const std::string& device,
                          LoginResult* out, const std::string& address, int64_t ttl_ms,
                          const std::string& device_key) {
  int64_t wait = throttle_.WaitMs(user, address, clock_.NowMillis());
  if (wait > 0)
    return Status::Exhausted("too many failed logins; try again in " + std::to_string((wait + 999) / 1000) + " s");
  UserRow row;
  Status s = store_.GetUser(user, &row);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  // A missing or disabled account is checked against a dummy hash: the answer
  // takes as long as for a wrong password, so timing does not tell which names exist.
  bool real = s.ok() && !row.disabled;
  std::call_once(dummy_hash_once_, [&] { dummy_hash_ = HashPassword(NewToken(), limits_.pbkdf2_iterations); });
  if (!password_checks_.try_acquire_for(std::chrono::seconds(5)))
    return Status::Unavailable("the server is busy checking passwords; try again shortly");
  bool verified = VerifyPassword(password, real ? row.password_hash : dummy_hash_) && real;
  password_checks_.release();
  // The same answer for a wrong name and a wrong password: no user enumeration.
  if (!verified) {
    throttle_.Failed(user, address, clock_.NowMillis());
    return Status::Unauth("wrong user name or password");
  }
  throttle_.Succeeded(user, address);
  // A device id belongs to the account that registered it. Another account may
  // take the device over only by proving it holds that device (its key): an
  // officer's laptop handed to a successor keeps working, while an account
  // that merely names another device's id gets neither its return files nor
  // its answers.
  if (!device.empty()) {
    std::string owner, owner_key;
    bool registered = false;
    s = store_.GetDeviceKey(device, &owner, &owner_key, &registered);
    if (!s.ok()) return s;
    if (registered && owner != row.name && owner_key != device_key)
      return Status::Denied(
          "this device is registered to another account; log in on it with that account, or set up a new store on "
          "this device (ocop init)");
  }
  std::string token = NewToken();
  TokenRow t{HashToken(token), row.name, device, clock_.NowMillis() + (ttl_ms > 0 ? std::min(ttl_ms, limits_.token_ttl_ms) : limits_.token_ttl_ms), false};
  s = store_.SaveToken(t);
  if (!s.ok()) return s;
  if (!device_key.empty()) {
    if (device_key.size() != 64 || device_key.find_first_not_of("0123456789abcdef") != std::string::npos)
      return Status::Invalid("'device_key' must be 64 lower-case hex digits");
    if (!ids::IsUuid(device)) return Status::Invalid("a device registering a key needs a device id");
    s = store_.SaveDeviceKey(device, row.name, device_key);
    if (!s.ok()) return s;
  }
  s = store_.PruneSessions(row.name, limits_.max_sessions_per_account, limits_.max_devices_per_account);
  if (!s.ok()) return s;
  *out = {token, t.expires_ms, row.name, row.role, row.unit};
  return Status::Ok();
}

Status SyncService::Authenticate(const std::string& bearer, AuthUser* out) {
  if (bearer.empty()) return Status::Unauth("missing bearer token; log in first");
  if (bearer.size() != 64) return Status::Unauth("malformed token");
  TokenRow t;
  Status s = store_.GetToken(HashToken(bearer), &t);
  if (s.code() == Code::kNotFound) return Status::Unauth("unknown token; log in again");
  if (!s.ok()) return s;
  if (t.revoked) return Status::Unauth("token was revoked; log in again");
  if (t.expires_ms <= clock_.NowMillis()) return Status::Unauth("token expired; log in again");
  UserRow u;
  s = store_.GetUser(t.user, &u);
  if (!s.ok() || u.disabled) return Status::Unauth("account is disabled");
  out->name = u.name;
  out->role = u.role;
  out->unit = u.unit;
  out->device = t.device;
  // Scope is the user's unit and everything below it, administrators included.
  out->unit_path = Units()->Path(u.unit);
  return Status::Ok();
}

Status SyncService::Logout(const std::string& bearer) {
  AuthUser u;
  Status s = Authenticate(bearer, &u);
  if (!s.ok()) return s;
  return store_.RevokeToken(HashToken(bearer));
}

}  // namespace ocop::server
