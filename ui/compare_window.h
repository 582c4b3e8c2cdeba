// Compare runs: pick run folders and overlay their curves, one panel per family (small
// multiples, or one family), with a stable colour per run group. Runs that differ only by
// seeds (data and model) are one group: their mean with a band of one standard deviation.
// The text above the panels names every key that differs and the seeds averaged over.
// Any curve: losses, errors and the five specialisation metrics; log y and smoothing as in
// the main chart; exports of the figure (PNG, SVG) and its data (CSV).
#pragma once

#include <QDialog>
#include <vector>

#include "modlab/experiment/run_store.h"
#include "ui/run_comparison.h"

class QChart;
class QChartView;
class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
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
  void setFamily(Family family);
  void setAllFamilies();  // one panel per family
  void setQuantity(CompareQuantity quantity);
  void setLogScale(bool log);
  void setSmoothing(double smoothing);  // training loss only; 0 = off
  // The groups of the first panel (the chosen family, or the first family shown).
  const std::vector<ComparedGroup>& groups() const { return groups_; }
  const std::vector<ComparedGroup>& groupsOf(Family family) const;
  std::vector<Family> shownFamilies() const;
  QChartView* chartView() const;  // the first panel
  ChartFigure* figure() const { return figure_; }
  QString differsText() const;
  QString toCsv() const;
  void redraw();

private:
  std::vector<RunRecord> records_;
  QStringList sources_;
  std::vector<ComparedGroup> groups_;
  std::vector<std::pair<Family, std::vector<ComparedGroup>>> panels_;
  std::vector<ChartView*> views_;
  QListWidget* list_;
  QComboBox *family_, *quantity_;
  QCheckBox* log_;
  QSlider* smoothing_;
  QLabel *smoothingLabel_, *differs_;
  ChartFigure* figure_;
  QGridLayout* grid_;
};

QColor runColor(int index);  // a stable colour per compared run group (Paul Tol's bright)

}  // namespace modlab::ui
