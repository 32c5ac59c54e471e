#include "runtime/engine/models/sequence_state.h"

namespace warden::engine {

SequenceState::SequenceState(std::shared_ptr<Backend> backend, SequenceLayout layout, const KvCacheOptions& kv)
    : backend_(std::move(backend)), layout_(std::move(layout)), kv_(kv) {
  size_t n = 0;
  for (bool full : layout_.is_full_attention) kv_index_.push_back(full ? n++ : 0);
}

Status SequenceState::EnsureAllocated() {
  if (allocated_) return Status::Ok();
  size_t attention_layers = 0;
  for (bool full : layout_.is_full_attention) attention_layers += full;
  WARDEN_ASSIGN_OR_RETURN(kv_cache_,
                          backend_->NewKvCache(kv_, attention_layers, layout_.num_kv_heads, layout_.head_dim));
  conv_history_.resize(layout_.is_full_attention.size());
  recurrent_state_.resize(layout_.is_full_attention.size());
  for (size_t i = 0; i < layout_.is_full_attention.size(); ++i) {
    if (layout_.is_full_attention[i]) continue;
    WARDEN_ASSIGN_OR_RETURN(conv_history_[i], backend_->Alloc(DType::kF32, layout_.conv_history_shape));
    WARDEN_ASSIGN_OR_RETURN(recurrent_state_[i], backend_->Alloc(DType::kF32, layout_.recurrent_state_shape));
  }
  allocated_ = true;
  return Status::Ok();
}

size_t SequenceState::memory_bytes() const {
  size_t total = kv_cache_ ? kv_cache_->memory_bytes() : 0;
  for (const auto& t : conv_history_) total += t.empty() ? 0 : t.bytes();
  for (const auto& t : recurrent_state_) total += t.empty() ? 0 : t.bytes();
  return total;
}

}  // namespace warden::engine
