#include "ui/family_style.h"

#include "ui/appearance.h"

namespace modlab::ui {

QColor familyColor(Family family) {
  switch (family) {
    case Family::Monolithic: return QColor(0xE6, 0x9F, 0x00);  // orange
    case Family::Modular: return QColor(0x00, 0x72, 0xB2);     // blue
    case Family::ModularOp: return QColor(0x00, 0x9E, 0x73);   // bluish green
    case Family::GtModular: return QColor(0xCC, 0x79, 0xA7);   // reddish purple
  }
  return Qt::gray;
}

QColor familyTextColor(Family family) {
  if (!appearance().dark()) return familyColor(family).darker(family == Family::Monolithic ? 140 : 120);
  switch (family) {
    case Family::Modular: return QColor(0x56, 0xB4, 0xE9);    // Okabe-Ito sky blue: the blue, readable on dark
    case Family::ModularOp: return QColor(0x3C, 0xCB, 0xA0);
    default: return familyColor(family).lighter(115);
  }
}

QString familyName(Family family) { return QString::fromStdString(toString(family)); }

QColor randomRoutingColor() { return QColor(0x80, 0x80, 0x80); }
QColor totalCollapseColor() { return QColor(0xD5, 0x5E, 0x00); }  // vermillion

}  // namespace modlab::ui
