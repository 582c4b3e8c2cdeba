#include "ui/export/qr_code.h"

#include <qrencode.h>

#include <memory>

namespace modlab::ui {

QImage qrCode(const QString& text, int scale) {
  const QByteArray bytes = text.toUtf8();
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(QRcode_encodeString(bytes.constData(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                   QRcode_free);
  if (!code || scale < 1) return {};
  const int quiet = 4, side = (code->width + 2 * quiet) * scale;
  QImage image(side, side, QImage::Format_RGB32);
  image.fill(Qt::white);
  for (int y = 0; y < code->width; ++y)
    for (int x = 0; x < code->width; ++x)
      if (code->data[y * code->width + x] & 1)
        for (int dy = 0; dy < scale; ++dy)
          for (int dx = 0; dx < scale; ++dx) image.setPixel((x + quiet) * scale + dx, (y + quiet) * scale + dy, qRgb(0, 0, 0));
  return image;
}

}  // namespace modlab::ui
