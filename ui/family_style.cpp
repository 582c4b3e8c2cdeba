#include "ui/family_style.h"

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

QString familyName(Family family) { return QString::fromStdString(toString(family)); }

QColor randomRoutingColor() { return QColor(0x80, 0x80, 0x80); }
QColor totalCollapseColor() { return QColor(0xD5, 0x5E, 0x00); }  // vermillion

}  // namespace modlab::ui
