#include "ui/heatmaps/viridis.h"

#include <algorithm>

namespace modlab::ui {

// Polynomial fit of matplotlib's viridis (Matt Zucker, CC0), max error well below 1/255.
QColor viridis(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const double c0[3] = {0.2777273272234177, 0.005407344544966578, 0.3340998053353061};
  const double c1[3] = {0.1050930431085774, 1.404613529898575, 1.384590162594685};
  const double c2[3] = {-0.3308618287255563, 0.214847559468213, 0.09509516302823659};
  const double c3[3] = {-4.634230498983486, -5.799100973351585, -19.33244095627987};
  const double c4[3] = {6.228269936347081, 14.17993336680509, 56.69055260068105};
  const double c5[3] = {4.776384997670288, -13.74514537774601, -65.35303263337234};
  const double c6[3] = {-5.435455855934631, 4.645852612178535, 26.3124352495832};
  double rgb[3];
  for (int i = 0; i < 3; ++i)
    rgb[i] = std::clamp(c0[i] + t * (c1[i] + t * (c2[i] + t * (c3[i] + t * (c4[i] + t * (c5[i] + t * c6[i]))))), 0.0, 1.0);
  return QColor::fromRgbF(static_cast<float>(rgb[0]), static_cast<float>(rgb[1]), static_cast<float>(rgb[2]));
}

const QVector<QRgb>& viridisTable() {
  static const QVector<QRgb> table = [] {
    QVector<QRgb> t(256);
    for (int i = 0; i < 256; ++i) t[i] = viridis(i / 255.0).rgb();
    return t;
  }();
  return table;
}

}  // namespace modlab::ui
