// Video decoding through FFmpeg's libraries (model.md §4.5 input; see media_decode.h). Two passes: the first
// counts the video stream's packets (each carries one frame for the codecs users attach) when the container does
// not say; the second decodes and keeps only the sampled frames, converted to RGB24 with swscale.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <memory>

#include "runtime/engine/vision/media_decode.h"

namespace warden::engine {
namespace {

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct FormatCloser {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFreer {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;

Result<FormatPtr> OpenInput(const std::string& name, int& stream_index) {
  AVFormatContext* raw = nullptr;
  if (int rc = avformat_open_input(&raw, name.c_str(), nullptr, nullptr); rc < 0) {
    return Status::InvalidArgument(name + ": cannot open as a video (" + AvError(rc) +
                                   "); attach a video FFmpeg can read (mp4, mkv, webm, avi, y4m ...)");
  }
  FormatPtr fmt(raw);
  if (int rc = avformat_find_stream_info(fmt.get(), nullptr); rc < 0) {
    return Status::InvalidArgument(name + ": cannot read the stream layout (" + AvError(rc) + ")");
  }
  stream_index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream_index < 0) return Status::InvalidArgument(name + ": the file has no video stream");
  return fmt;
}

}  // namespace

Result<DecodedVideo> DecodeVideoFile(const std::filesystem::path& path, const VideoPreprocessorConfig& config,
                                     const DecodeLimits& limits) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound(name + ": no such video file");
  }
  if (std::filesystem::file_size(path, ec) == 0) return Status::InvalidArgument(name + ": the file is empty");
  av_log_set_level(AV_LOG_QUIET);
  int si = -1;
  WARDEN_ASSIGN_OR_RETURN(FormatPtr fmt, OpenInput(name, si));
  const AVStream* stream = fmt->streams[si];
  DecodedVideo out;
  AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  out.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  out.total_frames = stream->nb_frames;
  std::unique_ptr<AVPacket, PacketFreer> pkt(av_packet_alloc());
  if (out.total_frames <= 0) {
    // The container does not say: count the stream's packets, then reopen for decoding.
    int64_t count = 0;
    while (av_read_frame(fmt.get(), pkt.get()) >= 0) {
      if (pkt->stream_index == si) ++count;
      av_packet_unref(pkt.get());
    }
    out.total_frames = count;
    fmt.reset();
    WARDEN_ASSIGN_OR_RETURN(fmt, OpenInput(name, si));
    stream = fmt->streams[si];
  }
  if (out.total_frames <= 0) return Status::InvalidArgument(name + ": the video stream has no frames");
  if (out.fps <= 0) out.fps = config.fps;  // unknown rate: sample every frame the processor would at its own fps
  const std::vector<int64_t> wanted = SampleFrameIndices(out.total_frames, out.fps, config);

  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (codec == nullptr) {
    return Status::InvalidArgument(name + ": no decoder for codec " +
                                   std::string(avcodec_get_name(stream->codecpar->codec_id)) +
                                   " in this FFmpeg; re-encode the video (e.g. H.264 or VP9)");
  }
  std::unique_ptr<AVCodecContext, CodecFreer> dec(avcodec_alloc_context3(codec));
  if (dec == nullptr) return Status::ResourceExhausted(name + ": cannot allocate a decoder");
  if (int rc = avcodec_parameters_to_context(dec.get(), stream->codecpar); rc < 0) {
    return Status::InvalidArgument(name + ": bad codec parameters (" + AvError(rc) + ")");
  }
  if (int rc = avcodec_open2(dec.get(), codec, nullptr); rc < 0) {
    return Status::InvalidArgument(name + ": cannot open the " + codec->name + " decoder (" + AvError(rc) + ")");
  }
  std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
  std::unique_ptr<SwsContext, SwsFreer> sws;
  int sws_w = 0, sws_h = 0, sws_fmt = -1;
  int64_t index = 0;
  size_t next = 0;
  std::string decode_error;

  auto take = [&]() -> Status {
    const int64_t i = index++;
    while (next < wanted.size() && wanted[next] < i) ++next;  // (indices are sorted; repeats keep one decode)
    if (next >= wanted.size() || wanted[next] != i) return Status::Ok();
    const int w = frame->width, h = frame->height;
    if (w <= 0 || h <= 0) return Status::InvalidArgument(name + ": frame " + std::to_string(i) + " has zero size");
    if (static_cast<int64_t>(w) * h > limits.max_pixels) {
      return Status::InvalidArgument(name + ": frames of " + std::to_string(w) + "×" + std::to_string(h) +
                                     " exceed the decode limit of " + std::to_string(limits.max_pixels) + " pixels");
    }
    if (!sws || w != sws_w || h != sws_h || frame->format != sws_fmt) {
      sws.reset(sws_getContext(w, h, static_cast<AVPixelFormat>(frame->format), w, h, AV_PIX_FMT_RGB24,
                               SWS_BICUBIC, nullptr, nullptr, nullptr));
      if (!sws) return Status::InvalidArgument(name + ": cannot convert its pixel format to RGB");
      sws_w = w;
      sws_h = h;
      sws_fmt = frame->format;
    }
    RgbImage img;
    img.width = w;
    img.height = h;
    img.pixels.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
    uint8_t* dst[4] = {img.pixels.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {3 * w, 0, 0, 0};
    sws_scale(sws.get(), frame->data, frame->linesize, 0, h, dst, dst_stride);
    // A frame picked twice by the sampler (short clips) is stored once per pick.
    while (next < wanted.size() && wanted[next] == i) {
      out.frames.push_back(img);
      out.times.push_back(static_cast<double>(i) / out.fps);
      out.indices.push_back(i);
      ++next;
    }
    return Status::Ok();
  };
  auto drain = [&]() -> Status {
    while (true) {
      const int rc = avcodec_receive_frame(dec.get(), frame.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
      if (rc < 0) {
        decode_error = AvError(rc);
        return Status::Ok();  // a broken frame is skipped, as players do; no frames at all is an error below
      }
      WARDEN_RETURN_IF_ERROR(take());
      av_frame_unref(frame.get());
    }
  };
  while (next < wanted.size() && av_read_frame(fmt.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == si) {
      const int rc = avcodec_send_packet(dec.get(), pkt.get());
      if (rc < 0 && rc != AVERROR(EAGAIN)) decode_error = AvError(rc);
      Status s = drain();
      av_packet_unref(pkt.get());
      WARDEN_RETURN_IF_ERROR(s);
    } else {
      av_packet_unref(pkt.get());
    }
  }
  avcodec_send_packet(dec.get(), nullptr);  // flush delayed frames
  WARDEN_RETURN_IF_ERROR(drain());
  if (out.frames.empty()) {
    return Status::InvalidArgument(name + ": no decodable video frames" +
                                   (decode_error.empty() ? std::string() : " (" + decode_error + ")") +
                                   "; the file may be corrupt or truncated");
  }
  // Fewer frames decoded than the container promised: keep what exists (the sampler's picks past the end drop).
  return out;
}

}  // namespace warden::engine
