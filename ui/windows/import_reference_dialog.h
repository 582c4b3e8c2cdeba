// File > Import the authors' models...: their model_last.pt / model_best.pt (a file or the
// folders their scripts write) as run folders, on a worker thread with a progress bar, then a
// summary of what was imported and what was skipped and why (modlab-cli import-reference).
#pragma once

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace modlab::ui {

class ImportReferenceDialog : public QDialog {
  Q_OBJECT
public:
  explicit ImportReferenceDialog(QWidget* parent = nullptr);
  void setSource(const QString& path);
  // Starts the import (as the Import button does); false with the reason in the summary when the form is incomplete.
  bool startImport();
  bool isImporting() const { return importing_; }
  QString summary() const;
  QStringList importedRuns() const { return runs_; }

Q_SIGNALS:
  void openRunRequested(const QString& run);
  void importFinished();

private:
  QLineEdit* source_;
  QComboBox *setting_, *task_, *family_;
  QSpinBox* rules_;
  QLineEdit* out_;
  QProgressBar* progress_;
  QTextBrowser* summary_;
  QPushButton *import_, *open_;
  QStringList runs_;
  bool importing_ = false;
};

}  // namespace modlab::ui
