// The experiment panel: preset, task (setting, kind, rules), model sizes and families,
// optimiser, steps and evaluation cadence, seeds, device. Widgets only accept values
// in range; whatever the engine still rejects is shown inline with its message.
#pragma once

#include <QWidget>
#include <map>

#include "modlab/experiment/experiment_config.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace modlab::ui {

class ExperimentPanel : public QWidget {
  Q_OBJECT
public:
  explicit ExperimentPanel(QWidget* parent = nullptr);

  ExperimentConfig config() const;
  void setConfig(const ExperimentConfig& config);
  bool selectPreset(const QString& name);
  // The engine's message for the current values, or empty when they are valid.
  QString validationMessage() const { return message_; }
  bool isValid() const { return message_.isEmpty(); }
  int contentWidth() const;  // what the panel needs without a horizontal scroll bar

Q_SIGNALS:
  void configChanged();

protected:
  void changeEvent(QEvent* e) override;

private:
  // The content never narrower than its labels and fields need in the current font; the
  // panel itself may be narrower (it scrolls) so that large scales fit small screens.
  void fitWidths();
  void applyColours();
  QWidget* content_ = nullptr;
  void revalidate();
  void edited();  // a field changed: no longer the preset shown, validated again
  void updateEnabled();

  ExperimentConfig base_;  // fields the panel does not show are kept from here
  bool loading_ = false;
  QString message_;
  QComboBox *preset_, *setting_, *task_, *device_;
  QLabel *presetDescription_, *error_, *sizeHint_;
  QSpinBox *rules_, *size_, *searchVersion_, *length_, *batch_, *steps_, *evalEvery_, *evalBatches_, *dataSeed_,
      *modelSeed_, *threads_;
  QDoubleSpinBox* learningRate_;
  std::map<Family, QCheckBox*> families_;
  // Named variants (beyond the paper): one check box per variant of base_, and a button that adds one.
  void rebuildVariants();
  void addVariant();
  QWidget* variantBox_;
  std::vector<QCheckBox*> variantBoxes_;  // as base_.variants
};

}  // namespace modlab::ui
