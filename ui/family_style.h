// One colour per family, fixed across the app and colour-blind safe (Okabe-Ito).
#pragma once

#include <QColor>
#include <QString>

#include "modlab/types.h"

namespace modlab::ui {

QColor familyColor(Family family);
QString familyName(Family family);
// The family's colour for text and thin marks on the current theme's background (readable
// contrast in light and dark).
QColor familyTextColor(Family family);
QColor randomRoutingColor();  // reference line: uniform-random activation
QColor totalCollapseColor();  // reference line: one module takes everything

}  // namespace modlab::ui
