// Fusion with its controls at the appearance's scale: check boxes, radio buttons, slider
// handles, scroll bars, spin-box buttons and their arrows, icons and dock title bars grow
// with the fonts (presentation mode at 1.5 or 2.0), where Fusion keeps them at screen pixels.
#pragma once

#include <QProxyStyle>

namespace modlab::ui {

class ScaledStyle : public QProxyStyle {
public:
  explicit ScaledStyle(QStyle* base) : QProxyStyle(base) {}
  int pixelMetric(PixelMetric metric, const QStyleOption* option = nullptr, const QWidget* widget = nullptr) const override;
  QRect subControlRect(ComplexControl control, const QStyleOptionComplex* option, SubControl sub,
                       const QWidget* widget = nullptr) const override;
  void drawComplexControl(ComplexControl control, const QStyleOptionComplex* option, QPainter* painter,
                          const QWidget* widget = nullptr) const override;
};

}  // namespace modlab::ui
