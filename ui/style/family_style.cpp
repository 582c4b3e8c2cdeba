#include "ui/style/family_style.h"

#include "ui/style/appearance.h"

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
// Distinct from the families' colours and from the reference lines (grey, vermillion).
const QColor kVariantColors[] = {QColor(0x33, 0x22, 0x88), QColor(0xB8, 0xA2, 0x00), QColor(0x88, 0x22, 0x55),
                                 QColor(0x44, 0xAA, 0x99), QColor(0x11, 0x77, 0x33), QColor(0x99, 0x99, 0x33)};
// Readable on the dark theme's background.
const QColor kVariantDarkColors[] = {QColor(0x99, 0x88, 0xEE), QColor(0xF0, 0xE4, 0x42), QColor(0xDD, 0x66, 0x99),
                                     QColor(0x44, 0xAA, 0x99), QColor(0x55, 0xBB, 0x66), QColor(0xBB, 0xBB, 0x55)};

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

QColor variantColor(const ExperimentConfig& config, const std::string& variant, bool dark) {
  const int i = variantIndex(config, variant);
  if (i < 0) return familyColor(familyNamed(variant));
  return (dark ? kVariantDarkColors : kVariantColors)[i % std::size(kVariantColors)];
}

QColor variantTextColor(const ExperimentConfig& config, const std::string& variant) {
  return variantTextColor(config, variant, appearance().dark());
}

QColor variantTextColor(const ExperimentConfig& config, const std::string& variant, bool dark) {
  const int i = variantIndex(config, variant);
  if (i < 0) return familyTextColor(familyNamed(variant), dark);
  if (dark) return kVariantDarkColors[i % std::size(kVariantDarkColors)];
  return kVariantColors[i % std::size(kVariantColors)].darker(115);
}

QColor randomRoutingColor() { return QColor(0x80, 0x80, 0x80); }
QColor totalCollapseColor() { return QColor(0xD5, 0x5E, 0x00); }  // vermillion

}  // namespace modlab::ui
