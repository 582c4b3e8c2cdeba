#include "ui/export/animation_export.h"

#include <QSaveFile>
#include <webp/encode.h>
#include <webp/mux.h>

namespace modlab::ui {

bool exportAnimatedWebp(const std::vector<QImage>& frames, int millisecondsPerFrame, const QString& path, QString* error) {
  auto fail = [&](const QString& why) {
    if (error) *error = why;
    return false;
  };
  if (frames.empty()) return fail(QObject::tr("no frames"));
  const QSize size = frames.front().size();
  WebPAnimEncoderOptions options;
  if (!WebPAnimEncoderOptionsInit(&options)) return fail(QObject::tr("libwebp version mismatch"));
  options.anim_params.loop_count = 0;
  WebPAnimEncoder* encoder = WebPAnimEncoderNew(size.width(), size.height(), &options);
  if (!encoder) return fail(QObject::tr("cannot start the WebP encoder"));
  WebPConfig config;
  WebPConfigInit(&config);
  config.lossless = 1;
  int timestamp = 0;
  bool ok = true;
  for (const QImage& frame : frames) {
    const QImage rgba = frame.scaled(size).convertToFormat(QImage::Format_RGBA8888);
    WebPPicture picture;
    WebPPictureInit(&picture);
    picture.use_argb = 1;
    picture.width = size.width();
    picture.height = size.height();
    ok = WebPPictureImportRGBA(&picture, rgba.constBits(), static_cast<int>(rgba.bytesPerLine())) &&
         WebPAnimEncoderAdd(encoder, &picture, timestamp, &config);
    WebPPictureFree(&picture);
    if (!ok) break;
    timestamp += millisecondsPerFrame;
  }
  WebPData data;
  WebPDataInit(&data);
  ok = ok && WebPAnimEncoderAdd(encoder, nullptr, timestamp, nullptr) && WebPAnimEncoderAssemble(encoder, &data);
  WebPAnimEncoderDelete(encoder);
  if (!ok) {
    WebPDataClear(&data);
    return fail(QObject::tr("WebP encoding failed"));
  }
  QSaveFile file(path);
  ok = file.open(QIODevice::WriteOnly) && file.write(reinterpret_cast<const char*>(data.bytes), static_cast<qint64>(data.size)) ==
                                                 static_cast<qint64>(data.size) && file.commit();
  WebPDataClear(&data);
  return ok || fail(QObject::tr("cannot write %1").arg(path));
}

}  // namespace modlab::ui
