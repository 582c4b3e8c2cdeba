// One colour per family, fixed across the app and colour-blind safe (Okabe-Ito); the named
// variants of an experiment take further colours, in their order.
#pragma once

#include <QColor>
#include <QString>

#include "modlab/experiment/experiment_config.h"
#include "modlab/types.h"

namespace modlab::ui {

QColor familyColor(Family family);
QString familyName(Family family);
// The family's colour for text and thin marks on the current theme's background (readable
// contrast in light and dark).
QColor familyTextColor(Family family);
// A model of an experiment (Variant::name): a family's colour, or the next variant colour.
QColor variantColor(const ExperimentConfig& config, const std::string& variant);
QColor variantTextColor(const ExperimentConfig& config, const std::string& variant);
// The same on the light (dark = false) or the dark theme, whichever the app shows (the browser view).
QColor familyTextColor(Family family, bool dark);
QColor variantColor(const ExperimentConfig& config, const std::string& variant, bool dark);
QColor variantTextColor(const ExperimentConfig& config, const std::string& variant, bool dark);
QColor randomRoutingColor();  // reference line: uniform-random activation
QColor totalCollapseColor();  // reference line: one module takes everything

}  // namespace modlab::ui
