// An animated WebP of a sequence of frames (libwebp's animation encoder), lossless.
#pragma once

#include <QImage>
#include <QString>
#include <vector>

namespace modlab::ui {

bool exportAnimatedWebp(const std::vector<QImage>& frames, int millisecondsPerFrame, const QString& path,
                        QString* error = nullptr);

}  // namespace modlab::ui
