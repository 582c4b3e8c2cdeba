#include "ui/style/appearance.h"
#include "ui/style/scaled_style.h"

#include <QApplication>
#include <algorithm>
#include <QFont>
#include <QPalette>
#include <QPointer>
#include <QScreen>
#include <QSettings>
#include <map>
#include <string>
#include <vector>
#include <cmath>
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
  QApplication::setStyle(new ScaledStyle(QStyleFactory::create("Fusion")));
  QApplication::setPalette(current.dark() ? darkPalette() : QApplication::style()->standardPalette());
  // The platform's fonts of particular widgets (dock titles, menus, tooltips, headers) are kept
  // apart from the application's: scaled with it.
  static const char* const kClassFonts[] = {"QDockWidgetTitle", "QMenu", "QMenuBar", "QHeaderView", "QTipLabel",
                                            "QMessageBoxLabel", "QComboMenuItem", "QToolButton", "QStatusBar"};
  static std::map<std::string, QFont> classBase;
  if (classBase.empty())
    for (const char* name : kClassFonts) classBase[name] = QApplication::font(name);
  for (const auto& [name, base] : classBase) {
    QFont scaledFont = base;
    scaledFont.setPointSizeF((base.pointSizeF() > 0 ? base.pointSizeF() : baseFont.pointSizeF()) * current.scale);
    QApplication::setFont(scaledFont, name.c_str());
  }
  // After those: a widget that sizes itself on the application's font change (Timeline) reads
  // its children's class fonts already scaled.
  QFont font = baseFont;
  font.setPointSizeF(baseFont.pointSizeF() * current.scale);
  QApplication::setFont(font);
}

qreal scaled(qreal width) { return width * current.scale; }

namespace {
struct RestyleHook {
  QPointer<QObject> owner;
  std::function<void()> restyle;
};
std::vector<RestyleHook>& hooks() {
  static std::vector<RestyleHook> all;
  return all;
}
}  // namespace

void addRestyleHook(QObject* owner, std::function<void()> restyle) { hooks().push_back({owner, std::move(restyle)}); }

void restyleAll() {
  auto& all = hooks();
  all.erase(std::remove_if(all.begin(), all.end(), [](const RestyleHook& h) { return h.owner.isNull(); }), all.end());
  for (const RestyleHook& h : std::vector<RestyleHook>(all))
    if (h.owner) h.restyle();
}

bool exportsOnWhite() { return QSettings().value("exportsOnWhite", true).toBool(); }
void setExportsOnWhite(bool on) { QSettings().setValue("exportsOnWhite", on); }

ExportAppearance::ExportAppearance() {
  if (!current.dark() || !exportsOnWhite()) return;
  Appearance light = current;
  light.theme = ThemeChoice::Light;
  switched_ = true;
  screen_ = current;
  setAppearance(light);
  restyleAll();
  QCoreApplication::sendPostedEvents();  // the widgets' palette and style changes, before drawing
}

ExportAppearance::~ExportAppearance() {
  if (!switched_) return;
  setAppearance(screen_);
  restyleAll();
  QCoreApplication::sendPostedEvents();
}

int minimumTextPixels() { return current.scale > 1.0 ? static_cast<int>(std::lround(12 * current.scale)) : 8; }

QFont smallFont(const QFont& font, double factor) {
  QFont small = font;
  const QScreen* screen = QGuiApplication::primaryScreen();
  const double dpi = screen ? screen->logicalDotsPerInchY() : 96.0;
  const double floorPoints = minimumTextPixels() * 72.0 / dpi;
  small.setPointSizeF(std::max({6.0, floorPoints, font.pointSizeF() * factor}));
  return small;
}

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
  const QFont legend = smallFont(font, 0.9);
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
