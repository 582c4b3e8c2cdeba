#include "ui/panels/experiment_panel.h"

#include <QCheckBox>
#include <QEvent>
#include <QStyle>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QLineEdit>
#include <QPushButton>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QLabel>
#include <QScreen>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "modlab/training/session.h"
#include "ui/style/appearance.h"
#include "ui/style/family_style.h"

namespace modlab::ui {

namespace {
QSpinBox* spin(int lo, int hi, const QString& tip) {
  auto* s = new QSpinBox;
  s->setRange(lo, hi);
  s->setToolTip(tip);
  s->setAccelerated(true);
  s->setGroupSeparatorShown(true);
  return s;
}
}  // namespace

ExperimentPanel::ExperimentPanel(QWidget* parent) : QWidget(parent) {
  preset_ = new QComboBox;
  preset_->addItem(tr("(custom)"));
  preset_->setAccessibleName(tr("Preset"));
  for (const Preset& p : presets()) preset_->addItem(QString::fromStdString(p.name));
  presetDescription_ = new QLabel;
  presetDescription_->setWordWrap(true);
  presetDescription_->setForegroundRole(QPalette::PlaceholderText);  // muted, in any theme

  setting_ = new QComboBox;
  setting_->addItem(tr("MLP: linear rules"), int(Setting::Mlp));
  setting_->addItem(tr("MHA: search & retrieve"), int(Setting::Mha));
  setting_->addItem(tr("RNN: switching dynamics"), int(Setting::Rnn));
  task_ = new QComboBox;
  task_->addItem(tr("Classification"), int(TaskKind::Classification));
  task_->addItem(tr("Regression"), int(TaskKind::Regression));
  rules_ = spin(2, 128, tr("R: the number of rules, and of modules"));
  searchVersion_ = spin(1, 2, tr("MHA search: 1 = nearest scalar key, 2 = most similar unit 2-vector"));
  length_ = spin(1, 1000, tr("Training sequence length N (MHA needs at least 2)"));
  size_ = spin(1, 4096, tr("E (MLP, RNN encoder) or d_model (MHA); the wide dimension is 4x"));
  sizeHint_ = new QLabel;
  sizeHint_->setForegroundRole(QPalette::PlaceholderText);

  auto* familyBox = new QWidget;
  auto* familyLayout = new QVBoxLayout(familyBox);
  familyLayout->setContentsMargins(0, 0, 0, 0);
  familyLayout->setSpacing(2);
  for (Family f : kAllFamilies) {
    auto* box = new QCheckBox(familyName(f));
    QFont bold;  // only the weight is set: the size follows the application's (presentation scale)
    bold.setBold(true);
    box->setFont(bold);
    box->setChecked(true);
    familyLayout->addWidget(box);
    families_[f] = box;
  }
  families_[Family::Monolithic]->setToolTip(tr("One network for all rules"));
  families_[Family::Modular]->setToolTip(tr("Modules with learned, end-to-end routing from (x, c)"));
  families_[Family::ModularOp]->setToolTip(tr("Modules routed by the rule context c alone (learned)"));
  families_[Family::GtModular]->setToolTip(tr("Modules routed by the true rule: perfect specialisation"));

  variantBox_ = new QWidget;
  auto* variantLayout = new QVBoxLayout(variantBox_);
  variantLayout->setContentsMargins(0, 0, 0, 0);
  variantLayout->setSpacing(2);
  auto* addVariantButton = new QPushButton(tr("Add variant..."));
  addVariantButton->setObjectName("AddVariant");
  addVariantButton->setToolTip(tr("Train Modular or Modular-op once more, with a routing intervention, beside the "
                                  "families: the same data and the same initial weights (beyond the paper)"));
  connect(addVariantButton, &QPushButton::clicked, this, &ExperimentPanel::addVariant);

  learningRate_ = new QDoubleSpinBox;
  learningRate_->setDecimals(6);
  learningRate_->setRange(0.000001, 1.0);
  learningRate_->setSingleStep(0.0001);
  learningRate_->setToolTip(tr("Adam learning rate (the paper: 1e-4)"));
  batch_ = spin(1, 65536, tr("Samples (or sequences) per step (the paper: 256)"));
  steps_ = spin(1, 100'000'000, tr("Training steps (the paper: 100k MLP, 500k MHA/RNN)"));
  evalEvery_ = spin(1, 100'000'000, tr("Evaluate (ID, OoD, heatmaps, metrics) every this many steps"));
  evalBatches_ = spin(1, 1000, tr("Batches per evaluation pass"));
  dataSeed_ = spin(0, 2147483647, tr("The task: the rules' coefficients come from numpy's RandomState(data seed)"));
  modelSeed_ = spin(0, 2147483647, tr("Initialisation and the training data stream"));
  device_ = new QComboBox;
  device_->addItem(tr("Auto (%1)").arg(QString::fromStdString(describeDevice("auto"))), "auto");
  device_->addItem(tr("CPU"), "cpu");
  device_->addItem(cudaAvailable() ? tr("CUDA") : tr("CUDA (not available)"), "cuda");
  threads_ = spin(0, 256, tr("Worker threads for the families (0 = one per family, up to the cores)"));
  threads_->setSpecialValueText(tr("auto"));

  error_ = new QLabel;
  error_->setWordWrap(true);
  QFont bold;
  bold.setBold(true);
  error_->setFont(bold);
  error_->hide();

  auto* presetGroup = new QGroupBox(tr("Preset"));
  auto* pg = new QVBoxLayout(presetGroup);
  pg->addWidget(preset_);
  pg->addWidget(presetDescription_);
  auto* taskGroup = new QGroupBox(tr("Task"));
  auto* tf = new QFormLayout(taskGroup);
  tf->addRow(tr("Setting"), setting_);
  tf->addRow(tr("Task"), task_);
  tf->addRow(tr("Rules"), rules_);
  tf->addRow(tr("Search version"), searchVersion_);
  tf->addRow(tr("Length"), length_);
  auto* modelGroup = new QGroupBox(tr("Models"));
  auto* mf = new QFormLayout(modelGroup);
  mf->addRow(tr("Size"), size_);
  mf->addRow(QString(), sizeHint_);
  mf->addRow(tr("Families"), familyBox);
  mf->addRow(tr("Variants"), variantBox_);
  mf->addRow(QString(), addVariantButton);
  auto* trainGroup = new QGroupBox(tr("Training"));
  auto* trf = new QFormLayout(trainGroup);
  trf->addRow(tr("Learning rate"), learningRate_);
  trf->addRow(tr("Batch size"), batch_);
  trf->addRow(tr("Steps"), steps_);
  trf->addRow(tr("Evaluate every"), evalEvery_);
  trf->addRow(tr("Eval batches"), evalBatches_);
  trf->addRow(tr("Data seed"), dataSeed_);
  trf->addRow(tr("Model seed"), modelSeed_);
  trf->addRow(tr("Device"), device_);
  trf->addRow(tr("Threads"), threads_);

  auto* content = new QWidget;
  auto* layout = new QVBoxLayout(content);
  layout->addWidget(presetGroup);
  layout->addWidget(error_);
  layout->addWidget(taskGroup);
  layout->addWidget(modelGroup);
  layout->addWidget(trainGroup);
  layout->addStretch();
  auto* scroll = new QScrollArea;
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  content_ = content;
  fitWidths();
  applyColours();
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->addWidget(scroll);

  connect(preset_, &QComboBox::currentIndexChanged, this, [this](int index) {
    if (loading_ || index <= 0) return;
    setConfig(findPreset(preset_->currentText().toStdString()).config);
  });
  auto changed = [this] {
    if (!loading_) edited();
  };
  for (QComboBox* c : {setting_, task_, device_}) connect(c, &QComboBox::currentIndexChanged, this, changed);
  for (QSpinBox* s : {rules_, size_, searchVersion_, length_, batch_, steps_, evalEvery_, evalBatches_, dataSeed_, modelSeed_, threads_})
    connect(s, &QSpinBox::valueChanged, this, changed);
  connect(learningRate_, &QDoubleSpinBox::valueChanged, this, changed);
  for (auto& [f, box] : families_) connect(box, &QCheckBox::toggled, this, changed);

  setConfig(findPreset(defaultDemoPreset()).config);
}

ExperimentConfig ExperimentPanel::config() const {
  ExperimentConfig c = base_;
  c.setting = Setting(setting_->currentData().toInt());
  c.task = TaskKind(task_->currentData().toInt());
  c.rules = rules_->value();
  c.searchVersion = searchVersion_->value();
  c.length = length_->value();
  c.size = size_->value();
  c.families.clear();
  for (Family f : kAllFamilies)
    if (families_.at(f)->isChecked()) c.families.push_back(f);
  c.variants.clear();
  for (std::size_t i = 0; i < base_.variants.size() && i < variantBoxes_.size(); ++i)
    if (variantBoxes_[i]->isChecked()) c.variants.push_back(base_.variants[i]);
  c.learningRate = learningRate_->value();
  c.batchSize = batch_->value();
  c.steps = steps_->value();
  c.evalEvery = evalEvery_->value();
  c.evalBatches = evalBatches_->value();
  c.dataSeed = dataSeed_->value();
  c.modelSeed = modelSeed_->value();
  c.device = device_->currentData().toString().toStdString();
  c.threads = threads_->value();
  return c;
}

void ExperimentPanel::setConfig(const ExperimentConfig& c) {
  loading_ = true;
  base_ = c;
  const int presetIndex = preset_->findText(QString::fromStdString(c.name));
  const bool isPreset = presetIndex > 0 && findPreset(c.name).config == c;
  preset_->setCurrentIndex(isPreset ? presetIndex : 0);
  presetDescription_->setText(c.description.empty() ? tr("Custom experiment.") : QString::fromStdString(c.description));
  setting_->setCurrentIndex(setting_->findData(int(c.setting)));
  task_->setCurrentIndex(task_->findData(int(c.task)));
  rules_->setValue(c.rules);
  searchVersion_->setValue(c.searchVersion);
  length_->setValue(c.length);
  size_->setValue(c.size);
  for (auto& [f, box] : families_)
    box->setChecked(std::find(c.families.begin(), c.families.end(), f) != c.families.end());
  rebuildVariants();
  learningRate_->setValue(c.learningRate);
  batch_->setValue(c.batchSize);
  steps_->setValue(static_cast<int>(std::min<std::int64_t>(c.steps, steps_->maximum())));
  evalEvery_->setValue(static_cast<int>(std::min<std::int64_t>(c.evalEvery, evalEvery_->maximum())));
  evalBatches_->setValue(c.evalBatches);
  dataSeed_->setValue(c.dataSeed);
  modelSeed_->setValue(c.modelSeed);
  const int device = device_->findData(QString::fromStdString(c.device));
  device_->setCurrentIndex(device < 0 ? 0 : device);
  threads_->setValue(c.threads);
  loading_ = false;
  revalidate();
}

bool ExperimentPanel::selectPreset(const QString& name) {
  const int index = preset_->findText(name);
  if (index <= 0) return false;
  preset_->setCurrentIndex(index);
  return true;
}

void ExperimentPanel::updateEnabled() {
  const Setting s = Setting(setting_->currentData().toInt());
  searchVersion_->setEnabled(s == Setting::Mha);
  length_->setEnabled(s != Setting::Mlp);
  ExperimentConfig shown = base_;
  shown.size = size_->value();
  const int wide = shown.wideDim();  // model_dim is kept from the loaded config (not edited here)
  sizeHint_->setText(s == Setting::Mha ? tr("d = %1, att = %2").arg(size_->value()).arg(wide)
                     : s == Setting::Rnn ? tr("encoder %1, hidden %2").arg(size_->value()).arg(wide)
                                         : tr("E = %1, D = %2").arg(size_->value()).arg(wide));
}

void ExperimentPanel::revalidate() {
  updateEnabled();
  try {
    validate(config());
    message_.clear();
  } catch (const ConfigError& e) {
    message_ = QString::fromStdString(e.what());
  }
  error_->setText(message_);
  error_->setVisible(!message_.isEmpty());
  Q_EMIT configChanged();
}

}  // namespace modlab::ui

namespace modlab::ui {

void ExperimentPanel::fitWidths() {
  if (!content_) return;
  content_->setMinimumWidth(content_->minimumSizeHint().width());
  const int em = fontMetrics().averageCharWidth();
  // The form scrolls sideways before the charts lose their labels: at most 19% of the screen
  // (1280x720 at scale 2.5: the loss chart, the metrics and the left docks' tabs, then along
  // its side, keep their minimum widths beside it).
  const QScreen* s = screen() ? screen() : QGuiApplication::primaryScreen();
  const int share = s ? static_cast<int>(s->availableGeometry().width() * 0.19) : em * 26;
  setMinimumWidth(std::min({content_->minimumSizeHint().width() + 16, em * 26, share}));
}

int ExperimentPanel::contentWidth() const {
  return content_ ? content_->minimumSizeHint().width() + style()->pixelMetric(QStyle::PM_ScrollBarExtent) + 8 : width();
}

void ExperimentPanel::changeEvent(QEvent* e) {
  QWidget::changeEvent(e);
  if (e->type() == QEvent::FontChange) fitWidths();
  if (e->type() == QEvent::PaletteChange) applyColours();
}

void ExperimentPanel::rebuildVariants() {
  for (QCheckBox* box : variantBoxes_) delete box;
  variantBoxes_.clear();
  for (const Variant& v : base_.variants) {
    auto* box = new QCheckBox(QString::fromStdString(v.name));
    QFont bold;
    bold.setBold(true);
    box->setFont(bold);
    box->setChecked(true);
    const std::string routing = describe(v.routing);
    box->setToolTip(tr("%1 with %2 (unchecked: not trained)")
                        .arg(QString::fromStdString(toString(v.family)),
                             routing.empty() ? tr("the paper's routing") : QString::fromStdString(routing)));
    variantBox_->layout()->addWidget(box);
    variantBoxes_.push_back(box);
    connect(box, &QCheckBox::toggled, this, [this] {
      if (!loading_) edited();
    });
  }
  if (auto* form = qobject_cast<QFormLayout*>(variantBox_->parentWidget()->layout()))
    form->setRowVisible(variantBox_, !variantBoxes_.empty());
  applyColours();
}

void ExperimentPanel::addVariant() {
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Add a variant"));
  auto* form = new QFormLayout(&dialog);
  auto* family = new QComboBox;
  family->addItem(familyName(Family::Modular), int(Family::Modular));
  family->addItem(familyName(Family::ModularOp), int(Family::ModularOp));
  auto* mode = new QComboBox;
  mode->addItem(tr("soft (the paper's)"), int(RoutingMode::Soft));
  mode->addItem(tr("top-1, straight-through"), int(RoutingMode::TopOne));
  mode->addItem(tr("Gumbel-softmax"), int(RoutingMode::Gumbel));
  auto coefficient = [](double hi, double value, const QString& tip) {
    auto* box = new QDoubleSpinBox;
    box->setRange(0.0, hi);
    box->setDecimals(4);
    box->setSingleStep(0.01);
    box->setValue(value);
    box->setToolTip(tip);
    return box;
  };
  auto* balance = coefficient(100, 0.01, tr("Switch Transformers' load-balancing loss: R sum_i f_i P_i"));
  auto* sampleEntropy = coefficient(100, 0, tr("Penalty on each decision's routing entropy: sharp choices"));
  auto* batchEntropy = coefficient(100, 0, tr("Reward for the batch-mean routing's entropy: every module used"));
  auto* temperature = coefficient(100, 1, tr("Scores / T before the softmax"));
  temperature->setMinimum(0.01);
  auto* name = new QLineEdit;
  name->setPlaceholderText(tr("made from the settings"));
  name->setMaxLength(40);
  auto* error = new QLabel;
  error->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  form->addRow(tr("Family"), family);
  form->addRow(tr("Routing"), mode);
  form->addRow(tr("Balance loss"), balance);
  form->addRow(tr("Sample entropy loss"), sampleEntropy);
  form->addRow(tr("Batch entropy loss"), batchEntropy);
  form->addRow(tr("Routing temperature"), temperature);
  form->addRow(tr("Name"), name);
  form->addRow(error);
  form->addRow(buttons);
  ExperimentConfig candidate;
  auto variantOf = [&] {
    Variant v;
    v.family = Family(family->currentData().toInt());
    v.routing.mode = RoutingMode(mode->currentData().toInt());
    v.routing.balance = balance->value();
    v.routing.sampleEntropy = sampleEntropy->value();
    v.routing.batchEntropy = batchEntropy->value();
    v.routing.temperature = temperature->value();
    v.name = name->text().trimmed().isEmpty() ? defaultVariantName(v.family, v.routing) : name->text().trimmed().toStdString();
    return v;
  };
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, &dialog, [&] {
    candidate = config();
    candidate.variants.push_back(variantOf());
    try {
      validate(candidate);
      dialog.accept();
    } catch (const ConfigError& e) {
      error->setText(QString::fromStdString(e.what()));
    }
  });
  if (dialog.exec() != QDialog::Accepted) return;
  base_ = candidate;
  rebuildVariants();
  edited();
}

void ExperimentPanel::edited() {
  if (preset_->currentIndex() > 0) {  // no longer the preset
    loading_ = true;
    preset_->setCurrentIndex(0);
    base_.name = "custom";
    base_.description.clear();
    presetDescription_->setText(tr("Custom experiment."));
    loading_ = false;
  }
  revalidate();
}

void ExperimentPanel::applyColours() {
  // Family names in their colours, readable on the theme's background; the error in red.
  for (auto& [f, box] : families_) {
    QPalette p;
    p.setColor(QPalette::WindowText, familyTextColor(f));
    box->setPalette(p);
  }
  for (std::size_t i = 0; i < variantBoxes_.size() && i < base_.variants.size(); ++i) {
    QPalette p;
    p.setColor(QPalette::WindowText, variantTextColor(base_, base_.variants[i].name));
    variantBoxes_[i]->setPalette(p);
  }
  QPalette red;
  red.setColor(QPalette::WindowText, appearance().dark() ? QColor(0xff, 0x6b, 0x6b) : QColor(0xb0, 0x00, 0x20));
  error_->setPalette(red);
}

}  // namespace modlab::ui
