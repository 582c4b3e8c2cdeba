#include "ui/style/appearance.h"

#include <QApplication>
#include <algorithm>
#include <QFont>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>
#include <QtCharts/QAbstractAxis>
#include <QtCharts/QChart>
#include <QtCharts/QLegend>

namespace modlab::ui {

namespace {
Appearance current;
QFont baseFont;
bool baseFontKnown = false;

QPalette darkPalette() {
  QPalette p;
  const QColor window(0x2b, 0x2d, 0x31), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6), mid(0x8a, 0x8d, 0x93);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, window);
  p.setColor(QPalette::ToolTipBase, base);
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, window);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::Highlight, QColor(0x3d, 0x8e, 0xd6));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Mid, mid);
  p.setColor(QPalette::PlaceholderText, mid);
  p.setColor(QPalette::Disabled, QPalette::Text, mid);
  p.setColor(QPalette::Disabled, QPalette::ButtonText, mid);
  p.setColor(QPalette::Disabled, QPalette::WindowText, mid);
  return p;
}
}  // namespace

bool systemPrefersDark() {
  static const bool dark = [] {
    const QColor window = QApplication::palette().color(QPalette::Window);
    return window.lightnessF() < 0.5;
  }();
  return dark;
}

bool Appearance::dark() const {
  return theme == ThemeChoice::Dark || (theme == ThemeChoice::System && systemPrefersDark());
}

const Appearance& appearance() { return current; }

void setAppearance(const Appearance& a) {
  systemPrefersDark();  // remember the system's choice before overriding the palette
  if (!baseFontKnown) {
    baseFont = QApplication::font();
    baseFontKnown = true;
  }
  current = a;
  current.scale = std::clamp(a.scale, 1.0, 2.5);
  QApplication::setStyle(QStyleFactory::create("Fusion"));
  QApplication::setPalette(current.dark() ? darkPalette() : QApplication::style()->standardPalette());
  QFont font = baseFont;
  font.setPointSizeF(baseFont.pointSizeF() * current.scale);
  QApplication::setFont(font);
}

qreal scaled(qreal width) { return width * current.scale; }

QPen seriesPen(const QColor& color, qreal width, Qt::PenStyle style) {
  QPen pen(color, scaled(width), style);
  pen.setCosmetic(true);
  return pen;
}

void removeAxes(QChart* chart) {
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
}

void styleChart(QChart* chart) {
  const bool dark = current.dark();
  const QPalette pal = QApplication::palette();
  chart->setBackgroundBrush(pal.color(QPalette::Base));
  chart->setBackgroundPen(Qt::NoPen);
  chart->setPlotAreaBackgroundVisible(false);
  QFont font = QApplication::font();
  QFont title = font;
  title.setBold(true);
  chart->setTitleFont(title);
  chart->setTitleBrush(pal.color(QPalette::WindowText));
  QFont legend = font;
  legend.setPointSizeF(font.pointSizeF() * 0.9);
  chart->legend()->setFont(legend);
  chart->legend()->setLabelColor(pal.color(QPalette::WindowText));
  const QColor grid = dark ? QColor(0x44, 0x47, 0x4d) : QColor(0xdd, 0xdd, 0xdd);
  for (QAbstractAxis* axis : chart->axes()) {
    axis->setLabelsFont(font);
    axis->setLabelsBrush(pal.color(QPalette::WindowText));
    axis->setTitleFont(font);
    axis->setTitleBrush(pal.color(QPalette::WindowText));
    axis->setLinePen(QPen(pal.color(QPalette::Mid), scaled(1)));
    axis->setGridLinePen(QPen(grid, scaled(1)));
    axis->setMinorGridLinePen(QPen(grid.lighter(dark ? 80 : 110), scaled(0.5)));
  }
}

}  // namespace modlab::ui
