// How the app looks: light or dark theme (following the system by default) and the
// presentation scale for projectors. Views read it when they draw and restyle on change.
#pragma once

#include <QColor>
#include <QPen>

class QChart;

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

// Chart background, text colours, fonts and grid per the appearance.
void styleChart(QChart* chart);
void removeAxes(QChart* chart);  // detaches and deletes every axis (before new ones)
qreal scaled(qreal width);  // a line width at the current scale
QPen seriesPen(const QColor& color, qreal width, Qt::PenStyle style = Qt::SolidLine);

}  // namespace modlab::ui
