// A QR code of a text (an address to scan from the back of a room), through libqrencode.
#pragma once

#include <QImage>
#include <QString>

namespace modlab::ui {

// Black modules on white, each `scale` pixels, with the standard 4-module quiet zone; a null
// image when the text does not fit a QR code.
QImage qrCode(const QString& text, int scale);

}  // namespace modlab::ui
