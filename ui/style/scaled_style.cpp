#include "ui/style/scaled_style.h"

#include <QPainter>
#include <QPainterPath>
#include <QStyleOptionSpinBox>
#include <cmath>

#include "ui/style/appearance.h"

namespace modlab::ui {

namespace {
double scale() { return appearance().scale; }
int grown(int pixels) { return static_cast<int>(std::lround(pixels * scale())); }
// Fusion's spin-box buttons are 14 px wide whatever the font.
int extraButtonWidth() { return grown(14) - 14; }
}  // namespace

int ScaledStyle::pixelMetric(PixelMetric metric, const QStyleOption* option, const QWidget* widget) const {
  const int base = QProxyStyle::pixelMetric(metric, option, widget);
  switch (metric) {
    case PM_IndicatorWidth:
    case PM_IndicatorHeight:
    case PM_ExclusiveIndicatorWidth:
    case PM_ExclusiveIndicatorHeight:
    case PM_SliderThickness:
    case PM_SliderControlThickness:
    case PM_SliderLength:
    case PM_ScrollBarExtent:
    case PM_ScrollBarSliderMin:
    case PM_SmallIconSize:
    case PM_ToolBarIconSize:
    case PM_ButtonIconSize:
    case PM_TabCloseIndicatorWidth:
    case PM_TabCloseIndicatorHeight:
    case PM_TitleBarHeight:
    case PM_DockWidgetTitleMargin:
    case PM_CheckBoxLabelSpacing:
    case PM_RadioButtonLabelSpacing:
    case PM_MenuButtonIndicator:
      return grown(base);
    default:
      return base;
  }
}

QRect ScaledStyle::subControlRect(ComplexControl control, const QStyleOptionComplex* option, SubControl sub,
                                  const QWidget* widget) const {
  QRect r = QProxyStyle::subControlRect(control, option, sub, widget);
  const int extra = extraButtonWidth();
  if (control != CC_SpinBox || extra <= 0 || r.isNull()) return r;
  const auto* spin = qstyleoption_cast<const QStyleOptionSpinBox*>(option);
  if (!spin || spin->buttonSymbols == QAbstractSpinBox::NoButtons) return r;
  const bool ltr = option->direction != Qt::RightToLeft;
  if (sub == SC_SpinBoxUp || sub == SC_SpinBoxDown) {
    if (ltr) r.setLeft(r.left() - extra);
    else r.setRight(r.right() + extra);
  } else if (sub == SC_SpinBoxEditField) {
    if (ltr) r.setRight(r.right() - extra);
    else r.setLeft(r.left() + extra);
  }
  return r;
}

void ScaledStyle::drawComplexControl(ComplexControl control, const QStyleOptionComplex* option, QPainter* painter,
                                     const QWidget* widget) const {
  QProxyStyle::drawComplexControl(control, option, painter, widget);
  const auto* spin = qstyleoption_cast<const QStyleOptionSpinBox*>(option);
  if (control != CC_SpinBox || extraButtonWidth() <= 0 || !spin || spin->buttonSymbols != QAbstractSpinBox::UpDownArrows) return;
  // Fusion draws its arrows at most 8 px: draw them again at the scale, over the buttons.
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  for (const SubControl sub : {SC_SpinBoxUp, SC_SpinBoxDown}) {
    const QRect button = proxy()->subControlRect(CC_SpinBox, option, sub, widget).adjusted(2, 1, -1, -1);
    const bool enabled = (option->state & State_Enabled) &&
                         (spin->stepEnabled & (sub == SC_SpinBoxUp ? QAbstractSpinBox::StepUpEnabled : QAbstractSpinBox::StepDownEnabled));
    painter->fillRect(button, option->palette.button());
    const double w = std::min(button.width() * 0.6, button.height() * 1.2), h = w / 2;
    const QPointF c = QRectF(button).center();
    QPainterPath arrow;
    if (sub == SC_SpinBoxUp) {
      arrow.moveTo(c.x() - w / 2, c.y() + h / 2);
      arrow.lineTo(c.x() + w / 2, c.y() + h / 2);
      arrow.lineTo(c.x(), c.y() - h / 2);
    } else {
      arrow.moveTo(c.x() - w / 2, c.y() - h / 2);
      arrow.lineTo(c.x() + w / 2, c.y() - h / 2);
      arrow.lineTo(c.x(), c.y() + h / 2);
    }
    arrow.closeSubpath();
    painter->fillPath(arrow, option->palette.color(enabled ? QPalette::Active : QPalette::Disabled, QPalette::ButtonText));
  }
  painter->restore();
}

}  // namespace modlab::ui
