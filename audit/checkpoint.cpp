// Ed25519 keys and signed checkpoint notes (policy-audit.md B.4). A checkpoint is a C2SP-style signed note over
// (origin, upto_seq, head hash, time); the key file holds the 32-byte seed in hex, created 0600 by Keygen, and the
// public key goes to the signing_key table and to reviewers (".pub" beside the key).
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "audit/audit_internal.h"
#include "runtime/base/file_util.h"

namespace warden::audit {
namespace detail {

std::array<uint8_t, 4> KeyIdOf(const uint8_t* public_key) {
  Hash h = Sha256(std::string_view(reinterpret_cast<const char*>(public_key), 32));
  return {h[0], h[1], h[2], h[3]};
}

Result<SigningKey> LoadKey(const std::filesystem::path& key_path) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  auto text = ReadFile(key_path);
  if (!text.ok()) {
    return Status::NotFound("audit signing key " + key_path.string() + " cannot be read (" +
                            text.status().message() + "); create one with `warden audit keygen`");
  }
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  uint8_t seed[32];
  if (!FromHex(hex, seed, sizeof(seed))) {
    return Status::InvalidArgument("audit signing key " + key_path.string() +
                                   ": expected 64 hex digits (an Ed25519 seed written by `warden audit keygen`)");
  }
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(), seed);
  sodium_memzero(seed, sizeof(seed));
  key.key_id = KeyIdOf(key.public_key.data());
  return key;
}

std::string NoteBody(const std::string& origin, uint64_t upto_seq, const Hash& head, int64_t ts_ns) {
  return origin + "/chain-v1\n" + std::to_string(upto_seq) + "\n" + Base64(head.data(), head.size()) + "\n" +
         std::to_string(ts_ns) + "\n";
}

std::string NoteText(const std::string& note_body, const std::string& origin, const std::array<uint8_t, 4>& key_id,
                     const uint8_t* signature) {
  uint8_t blob[4 + 64];
  std::copy(key_id.begin(), key_id.end(), blob);
  std::copy(signature, signature + 64, blob + 4);
  return note_body + "\n\u2014 " + origin + " " + Base64(blob, sizeof(blob)) + "\n";
}

std::array<uint8_t, 64> Sign(const SigningKey& key, std::string_view message) {
  std::array<uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       key.secret_key.data());
  return sig;
}

bool VerifySignature(const uint8_t* public_key, std::string_view message, const uint8_t* signature) {
  return crypto_sign_verify_detached(signature, reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key) == 0;
}

}  // namespace detail

Result<std::string> Keygen(const std::filesystem::path& key_path, bool overwrite) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(key_path, ec)) {
    return Status::InvalidArgument("audit signing key " + key_path.string() +
                                   " already exists; keep it (checkpoints signed with it verify against it) or pass "
                                   "--force to replace it");
  }
  if (key_path.has_parent_path()) {
    std::filesystem::create_directories(key_path.parent_path(), ec);
    if (ec) return Status::IoError("creating folder " + key_path.parent_path().string(), ec.value());
  }
  uint8_t seed[32], pk[32], sk[64];
  randombytes_buf(seed, sizeof(seed));
  crypto_sign_seed_keypair(pk, sk, seed);
  const std::string seed_hex = detail::Hex(seed, sizeof(seed)) + "\n";
  sodium_memzero(seed, sizeof(seed));
  sodium_memzero(sk, sizeof(sk));
  // Written through a 0600 descriptor so the secret is never readable by others, not even for an instant.
  const std::string tmp = key_path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("creating audit signing key " + tmp, errno);
  ::fchmod(fd, 0600);
  const bool wrote = ::write(fd, seed_hex.data(), seed_hex.size()) == static_cast<ssize_t>(seed_hex.size()) &&
                     ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!wrote) {
    ::unlink(tmp.c_str());
    return Status::IoError("writing audit signing key " + tmp, err);
  }
  if (::rename(tmp.c_str(), key_path.c_str()) != 0) return Status::IoError("renaming to " + key_path.string(), errno);
  const std::string pk_hex = detail::Hex(pk, sizeof(pk));
  WARDEN_RETURN_IF_ERROR(WriteFileAtomic(key_path.string() + ".pub", pk_hex + "\n"));
  return pk_hex;
}

Result<std::string> PublicKeyOf(const std::filesystem::path& key_path) {
  WARDEN_ASSIGN_OR_RETURN(auto key, detail::LoadKey(key_path));
  return detail::Hex(key.public_key.data(), key.public_key.size());
}

}  // namespace warden::audit
