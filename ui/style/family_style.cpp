#include "ui/style/family_style.h"

#include "ui/style/appearance.h"

#include <cmath>

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

QColor familyTextColor(Family family) { return familyTextColor(family, appearance().dark()); }

QColor familyTextColor(Family family, bool dark) {
  if (!dark) return familyColor(family).darker(family == Family::Monolithic ? 140 : 120);
  switch (family) {
    case Family::Modular: return QColor(0x56, 0xB4, 0xE9);    // Okabe-Ito sky blue: the blue, readable on dark
    case Family::ModularOp: return QColor(0x3C, 0xCB, 0xA0);
    default: return familyColor(family).lighter(115);
  }
}

QString familyName(Family family) { return QString::fromStdString(toString(family)); }

namespace {
// Distinct from the families' colours and from the reference lines (grey, vermillion), and
// mid-toned: one colour per variant on both themes, as the families have (a figure and the
// slide it goes into agree); only their text colours differ.
const QColor kVariantColors[] = {QColor(0x77, 0x55, 0xCC), QColor(0xC0, 0xA8, 0x00), QColor(0xAA, 0x33, 0x66),
                                 QColor(0x44, 0xAA, 0x99), QColor(0x55, 0xA0, 0x33), QColor(0x99, 0x99, 0x33)};

// -1 for a family of the experiment (or an unknown name), else the variant's index.
int variantIndex(const ExperimentConfig& config, const std::string& variant) {
  for (std::size_t i = 0; i < config.variants.size(); ++i)
    if (config.variants[i].name == variant) return static_cast<int>(i);
  return -1;
}

Family familyNamed(const std::string& name) {
  try {
    return parseFamily(name);
  } catch (const std::exception&) {
    return Family::Modular;
  }
}
}  // namespace

QColor variantColor(const ExperimentConfig& config, const std::string& variant) {
  return variantColor(config, variant, appearance().dark());
}

QColor variantColor(const ExperimentConfig& config, const std::string& variant, bool) {
  const int i = variantIndex(config, variant);
  if (i < 0) return familyColor(familyNamed(variant));
  return kVariantColors[i % std::size(kVariantColors)];
}

QColor variantTextColor(const ExperimentConfig& config, const std::string& variant) {
  return variantTextColor(config, variant, appearance().dark());
}

QColor variantTextColor(const ExperimentConfig& config, const std::string& variant, bool dark) {
  const int i = variantIndex(config, variant);
  if (i < 0) return familyTextColor(familyNamed(variant), dark);
  // The line's colour, lightened (dark theme) or darkened (light) until it reads on the page
  // (WCAG contrast 4.5 against the page's base colour).
  const auto luminance = [](const QColor& c) {
    const auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
  };
  const double page = dark ? luminance(QColor(0x1e, 0x1f, 0x22)) : 1.0;
  QColor text = kVariantColors[i % std::size(kVariantColors)];
  for (int step = 0; step < 20; ++step) {
    const double l = luminance(text);
    const double contrast = dark ? (l + 0.05) / (page + 0.05) : (page + 0.05) / (l + 0.05);
    if (contrast >= 4.5) break;
    text = dark ? text.lighter(110) : text.darker(110);
  }
  return text;
}

QColor randomRoutingColor() { return QColor(0x80, 0x80, 0x80); }
QColor totalCollapseColor() { return QColor(0xD5, 0x5E, 0x00); }  // vermillion

}  // namespace modlab::ui
