// Compare runs: pick run folders, overlay their curves for one family with a stable
// colour per run group, a legend that names what differs, and seeds averaged as a band.
#pragma once

#include <QDialog>
#include <vector>

#include "modlab/experiment/run_store.h"
#include "ui/run_comparison.h"

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QListWidget;

namespace modlab::ui {

class CompareWindow : public QDialog {
  Q_OBJECT
public:
  explicit CompareWindow(QWidget* parent = nullptr);
  // Adds a run folder to the list (checked); false with a message when it holds no run.
  bool addRun(const QString& directory, QString* error = nullptr);
  void scanRunsRoot();  // list the app's recorded runs (unchecked)
  void setFamily(Family family);
  void setQuantity(CompareQuantity quantity);
  const std::vector<ComparedGroup>& groups() const { return groups_; }
  QChartView* chartView() const { return view_; }
  void redraw();

private:
  std::vector<RunRecord> records_;
  QStringList sources_;
  std::vector<ComparedGroup> groups_;
  QListWidget* list_;
  QComboBox *family_, *quantity_;
  QLabel* differs_;
  QChart* chart_;
  QChartView* view_;
};

QColor runColor(int index);  // a stable colour per compared run group (Paul Tol's bright)

}  // namespace modlab::ui
