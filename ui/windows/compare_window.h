// Compare runs: pick run folders and overlay their curves, one panel per model (a family or
// a named variant; small multiples, or one model), with a stable colour per run group. Runs
// that differ only by seeds (data and model) are one group: their mean with a band of one
// standard deviation.
// The text above the panels names every key that differs and the seeds averaged over.
// Any curve: losses, errors and the five specialisation metrics; log y and smoothing as in
// the main chart; exports of the figure (PNG, SVG) and its data (CSV).
#pragma once

#include <QDialog>
#include <string>
#include <utility>
#include <vector>

#include "modlab/experiment/run_store.h"
#include "ui/data/run_comparison.h"

class QChart;
class QChartView;
class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QSlider;

namespace modlab::ui {

class ChartFigure;
class ChartView;

class CompareWindow : public QDialog {
  Q_OBJECT
public:
  explicit CompareWindow(QWidget* parent = nullptr);
  // Adds a run folder to the list (checked); false with a message when it holds no run.
  bool addRun(const QString& directory, QString* error = nullptr);
  void scanRunsRoot();  // list the app's recorded runs (unchecked)
  void setVariant(const QString& variant);  // a model's name (Variant::name) the chosen runs trained
  void setAllModels();  // one panel per model
  void setQuantity(CompareQuantity quantity);
  void setLogScale(bool log);
  void setSmoothing(double smoothing);  // training loss only; 0 = off
  // The groups of the first panel (the chosen model, or the first model shown).
  const std::vector<ComparedGroup>& groups() const { return groups_; }
  const std::vector<ComparedGroup>& groupsOf(const std::string& variant) const;
  std::vector<std::string> shownVariants() const;
  QChartView* chartView() const;  // the first panel
  ChartFigure* figure() const { return figure_; }
  QString differsText() const;
  QString skippedText() const;  // the runs that could not be read, each with its reason
  void setFilter(const QString& text);  // shows only the runs whose line contains it
  QString toCsv() const;
  void redraw();

private:
  void updateModels(const std::vector<Variant>& models);

  std::vector<RunRecord> records_;
  QStringList sources_;
  std::vector<ComparedGroup> groups_;
  std::vector<std::pair<std::string, std::vector<ComparedGroup>>> panels_;
  std::vector<ChartView*> views_;
  QListWidget* list_;
  QComboBox *model_, *quantity_;
  QCheckBox* log_;
  QSlider* smoothing_;
  QLabel *smoothingLabel_, *differs_, *skipped_;
  QLineEdit* filter_;
  ChartFigure* figure_;
  QGridLayout* grid_;
};

QColor runColor(int index);  // a stable colour per compared run group (Paul Tol's bright)

}  // namespace modlab::ui
