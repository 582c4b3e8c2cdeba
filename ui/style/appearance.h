// How the app looks: light or dark theme (following the system by default) and the
// presentation scale for projectors. Views read it when they draw and restyle on change.
#pragma once

#include <QColor>
#include <QFont>
#include <QPen>
#include <functional>

class QChart;
class QObject;

namespace modlab::ui {

enum class ThemeChoice { System, Light, Dark };

struct Appearance {
  ThemeChoice theme = ThemeChoice::System;
  double scale = 1.0;  // fonts and line widths; 1.0 to 2.5 in presentation mode
  bool dark() const;
};

const Appearance& appearance();
// Applies the palette (Fusion with a dark or light palette) and the scaled font to the app.
void setAppearance(const Appearance& a);
bool systemPrefersDark();  // read once, before the app changes its palette

// Views drawn with the appearance register how they restyle, so that an export can draw them
// on another theme and back (the hook goes with `owner`).
void addRestyleHook(QObject* owner, std::function<void()> restyle);
void restyleAll();
// Exports (PNG, SVG, dashboard, figures) on white by default, whatever the screen's theme; the
// user may choose the screen's theme instead (saved as a setting).
bool exportsOnWhite();
void setExportsOnWhite(bool on);
// For the lifetime of this object, the light theme when an export should be on white and the
// screen's theme is dark (every registered view restyled, and back after).
class ExportAppearance {
public:
  ExportAppearance();
  ~ExportAppearance();
  ExportAppearance(const ExportAppearance&) = delete;
  ExportAppearance& operator=(const ExportAppearance&) = delete;

private:
  bool switched_ = false;
  Appearance screen_;  // the theme to return to
};

// Chart background, text colours, fonts and grid per the appearance.
void styleChart(QChart* chart);
void removeAxes(QChart* chart);  // detaches and deletes every axis (before new ones)
qreal scaled(qreal width);  // a line width at the current scale
// The smallest text at the current scale in pixels: 12 px a step (18 px at 1.5 in presentation).
int minimumTextPixels();
// A smaller font for ticks and captions (factor of `font`), never below the minimum text size.
QFont smallFont(const QFont& font, double factor = 0.8);
QPen seriesPen(const QColor& color, qreal width, Qt::PenStyle style = Qt::SolidLine);

}  // namespace modlab::ui
