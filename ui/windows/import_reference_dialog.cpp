#include "ui/windows/import_reference_dialog.h"

#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <thread>

#include "modlab/reference/reference_import.h"
#include "ui/data/training_controller.h"
#include "ui/export/chart_export.h"

namespace modlab::ui {

ImportReferenceDialog::ImportReferenceDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Import the authors' models"));
  setObjectName("ImportReferenceDialog");
  source_ = new QLineEdit;
  source_->setPlaceholderText(tr("a model_last.pt or model_best.pt, or a folder of their runs"));
  source_->setAccessibleName(tr("Checkpoint or folder"));
  auto* browse = new QPushButton(tr("Folder..."));
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("The authors' runs"), lastFolder());
    if (!dir.isEmpty()) setSource(dir), rememberFolder(dir);
  });
  auto* sourceRow = new QHBoxLayout;
  sourceRow->addWidget(source_, 1);
  sourceRow->addWidget(browse);
  setting_ = new QComboBox;
  for (const char* s : {"mlp", "mha", "rnn"}) setting_->addItem(QString(s).toUpper(), s);
  setting_->setAccessibleName(tr("Setting"));
  task_ = new QComboBox;
  task_->addItem(tr("Classification"), "classification");
  task_->addItem(tr("Regression"), "regression");
  task_->setAccessibleName(tr("Task"));
  family_ = new QComboBox;
  family_->addItem(tr("From each folder's name"), QString());
  for (const char* f : {"Monolithic", "Modular", "Modular-op", "GT-Modular"}) family_->addItem(f, f);
  family_->setAccessibleName(tr("Family"));
  rules_ = new QSpinBox;
  rules_->setRange(0, 128);
  rules_->setSpecialValueText(tr("from the weights"));
  rules_->setToolTip(tr("R, where the weights cannot say it (an RNN Monolithic classifier)"));
  rules_->setAccessibleName(tr("Rules"));
  out_ = new QLineEdit(QDir(TrainingController::runsRoot()).filePath("imported-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
  out_->setAccessibleName(tr("Runs folder to write"));
  auto* form = new QFormLayout;
  form->addRow(tr("Checkpoint or folder"), sourceRow);
  form->addRow(tr("Setting"), setting_);
  form->addRow(tr("Task"), task_);
  form->addRow(tr("Family"), family_);
  form->addRow(tr("Rules"), rules_);
  form->addRow(tr("Write the runs to"), out_);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setAccessibleName(tr("Import progress"));
  summary_ = new QTextBrowser;
  summary_->setAccessibleName(tr("What was imported and what was skipped"));
  import_ = new QPushButton(tr("Import"));
  import_->setDefault(true);
  open_ = new QPushButton(tr("Open the first run"));
  open_->setEnabled(false);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  buttons->addButton(import_, QDialogButtonBox::ActionRole);
  buttons->addButton(open_, QDialogButtonBox::ActionRole);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(import_, &QPushButton::clicked, this, [this] { startImport(); });
  connect(open_, &QPushButton::clicked, this, [this] {
    if (!runs_.isEmpty()) Q_EMIT openRunRequested(runs_.front());
  });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(progress_);
  layout->addWidget(summary_, 1);
  layout->addWidget(buttons);
  resize(720, 520);
}

void ImportReferenceDialog::setSource(const QString& path) { source_->setText(path); }

QString ImportReferenceDialog::summary() const { return summary_->toPlainText(); }

bool ImportReferenceDialog::startImport() {
  if (importing_) return false;
  if (source_->text().trimmed().isEmpty()) {
    summary_->setPlainText(tr("Choose a checkpoint (model_last.pt, model_best.pt) or a folder of the authors' runs."));
    return false;
  }
  ReferenceImportOptions o;
  o.path = source_->text().trimmed().toStdString();
  o.setting = parseSetting(setting_->currentData().toString().toStdString());
  o.task = parseTaskKind(task_->currentData().toString().toStdString());
  if (!family_->currentData().toString().isEmpty()) o.family = parseFamily(family_->currentData().toString().toStdString());
  o.rules = rules_->value();
  o.out = out_->text().trimmed().toStdString();
  importing_ = true;
  import_->setEnabled(false);
  open_->setEnabled(false);
  runs_.clear();
  progress_->setRange(0, 0);  // busy until the first checkpoint is counted
  summary_->setPlainText(tr("Importing..."));
  QPointer<ImportReferenceDialog> self(this);
  std::thread([self, o] {
    ReferenceImport result;
    QString failure;
    try {
      result = importReferenceModels(o, [self](int done, int total) {
        QMetaObject::invokeMethod(qApp, [self, done, total] {
          if (!self) return;
          self->progress_->setRange(0, total);
          self->progress_->setValue(done);
        });
      });
    } catch (const std::exception& e) {
      failure = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(qApp, [self, result, failure] {
      if (!self) return;
      QString text;
      if (!failure.isEmpty()) text = tr("Nothing imported: %1").arg(failure);
      else {
        text = tr("%1 imported, %2 skipped.").arg(result.imported.size()).arg(result.skipped.size()) + "\n\n";
        for (const ImportedRun& r : result.imported) {
          self->runs_ << QString::fromStdString(r.run);
          text += QString::fromStdString(r.variant + ": " + r.source + "\n  -> " + r.run + "\n");
          for (const std::string& i : r.inferred) text += QString::fromStdString("  inferred: " + i + "\n");
        }
        for (const std::string& s : result.skipped) text += tr("skipped: %1").arg(QString::fromStdString(s)) + "\n";
      }
      self->summary_->setPlainText(text);
      if (self->progress_->maximum() == 0) self->progress_->setRange(0, 1), self->progress_->setValue(1);
      self->importing_ = false;
      self->import_->setEnabled(true);
      self->open_->setEnabled(!self->runs_.isEmpty());
      Q_EMIT self->importFinished();
    });
  }).detach();
  return true;
}

}  // namespace modlab::ui
