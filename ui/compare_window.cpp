#include "ui/compare_window.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QComboBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include "ui/appearance.h"
#include "ui/chart_export.h"
#include "ui/family_style.h"
#include "ui/training_controller.h"

namespace modlab::ui {

QColor runColor(int index) {
  static const QColor colors[] = {QColor("#4477AA"), QColor("#EE6677"), QColor("#228833"), QColor("#CCBB44"),
                                  QColor("#66CCEE"), QColor("#AA3377"), QColor("#BBBBBB")};
  return colors[index % 7];
}

CompareWindow::CompareWindow(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Compare runs"));
  resize(1200, 720);
  list_ = new QListWidget;
  list_->setToolTip(tr("Tick the runs to compare; runs that differ only by model seed are averaged"));
  auto* add = new QPushButton(tr("Add run folder..."));
  family_ = new QComboBox;
  for (Family f : kAllFamilies) family_->addItem(familyName(f), int(f));
  family_->setCurrentIndex(1);
  quantity_ = new QComboBox;
  quantity_->addItem(tr("Train loss (smoothed)"), int(CompareQuantity::TrainLoss));
  quantity_->addItem(tr("ID loss"), int(CompareQuantity::IdLoss));
  quantity_->addItem(tr("OoD loss"), int(CompareQuantity::OodLoss));
  quantity_->addItem(tr("ID error % / L1"), int(CompareQuantity::IdError));
  quantity_->addItem(tr("OoD error % / L1"), int(CompareQuantity::OodError));
  differs_ = new QLabel;
  differs_->setWordWrap(true);
  chart_ = new QChart;
  chart_->legend()->setAlignment(Qt::AlignBottom);
  view_ = new QChartView(chart_);
  view_->setRenderHint(QPainter::Antialiasing);
  installExportMenu(view_, "comparison", [this] {
    QString csv = "group,seeds,step,mean,lower,upper\n";
    for (const ComparedGroup& g : groups_)
      for (int i = 0; i < g.mean.size(); ++i)
        csv += QString("\"%1\",%2,%3,%4,%5,%6\n").arg(g.label).arg(g.seeds).arg(g.mean[i].x()).arg(g.mean[i].y(), 0, 'g', 9)
                   .arg(g.lower[i].y(), 0, 'g', 9).arg(g.upper[i].y(), 0, 'g', 9);
    return csv;
  });

  auto* left = new QWidget;
  auto* ll = new QVBoxLayout(left);
  ll->addWidget(new QLabel(tr("Runs")));
  ll->addWidget(list_, 1);
  ll->addWidget(add);
  auto* right = new QWidget;
  auto* rl = new QVBoxLayout(right);
  auto* pick = new QHBoxLayout;
  pick->addWidget(new QLabel(tr("Family")));
  pick->addWidget(family_);
  pick->addWidget(new QLabel(tr("Curve")));
  pick->addWidget(quantity_);
  pick->addStretch();
  rl->addLayout(pick);
  rl->addWidget(differs_);
  rl->addWidget(view_, 1);
  auto* split = new QSplitter;
  split->addWidget(left);
  split->addWidget(right);
  split->setSizes({300, 900});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);

  connect(add, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add run folder"), TrainingController::runsRoot());
    QString error;
    if (!dir.isEmpty() && !addRun(dir, &error)) QMessageBox::warning(this, tr("Cannot add run"), error);
  });
  connect(list_, &QListWidget::itemChanged, this, [this] { redraw(); });
  connect(family_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
  connect(quantity_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
}

bool CompareWindow::addRun(const QString& directory, QString* error) {
  if (sources_.contains(directory)) {
    for (int i = 0; i < list_->count(); ++i)
      if (list_->item(i)->data(Qt::UserRole).toString() == directory) list_->item(i)->setCheckState(Qt::Checked);
    return true;
  }
  try {
    records_.push_back(RunStore::load(directory.toStdString()));
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  sources_ << directory;
  const RunRecord& r = records_.back();
  auto* item = new QListWidgetItem(QString("%1\n%2, %3, R=%4, size %5, seed %6")
                                       .arg(QFileInfo(directory).fileName(), QString::fromStdString(toString(r.config.setting)),
                                            QString::fromStdString(toString(r.config.task)))
                                       .arg(r.config.rules)
                                       .arg(r.config.size)
                                       .arg(r.config.modelSeed));
  item->setData(Qt::UserRole, directory);
  item->setToolTip(directory);
  item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
  item->setCheckState(Qt::Checked);
  list_->blockSignals(true);
  list_->addItem(item);
  list_->blockSignals(false);
  redraw();
  return true;
}

void CompareWindow::scanRunsRoot() {
  const QDir root(TrainingController::runsRoot());
  for (const QFileInfo& info : root.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time)) {
    if (!QFileInfo::exists(info.filePath() + "/config.json")) continue;
    if (addRun(info.filePath())) list_->item(list_->count() - 1)->setCheckState(Qt::Unchecked);
  }
}

void CompareWindow::setFamily(Family family) { family_->setCurrentIndex(family_->findData(int(family))); }

void CompareWindow::setQuantity(CompareQuantity quantity) { quantity_->setCurrentIndex(quantity_->findData(int(quantity))); }

void CompareWindow::redraw() {
  std::vector<RunRecord> chosen;
  QStringList chosenSources;
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->checkState() == Qt::Checked) {
      chosen.push_back(records_[static_cast<std::size_t>(i)]);
      chosenSources << sources_[i];
    }
  const Family family = Family(family_->currentData().toInt());
  const auto quantity = CompareQuantity(quantity_->currentData().toInt());
  groups_ = compareRuns(chosen, chosenSources, family, quantity, 0.95);
  std::vector<ExperimentConfig> configs;
  for (const RunRecord& r : chosen) configs.push_back(r.config);
  const QStringList keys = differingKeys(configs);
  differs_->setText(chosen.size() < 2 ? tr("Tick two or more runs to compare them.")
                    : keys.isEmpty()  ? tr("The runs differ only by model seed: shown as one mean with a band.")
                                      : tr("Differs: <b>%1</b>. Runs that differ only by seed are shown as their mean, "
                                           "with a band of one standard deviation.")
                                            .arg(keys.join(", ").replace('_', ' ')));

  chart_->removeAllSeries();
  removeAxes(chart_);
  auto* x = new QValueAxis;
  x->setTitleText(tr("Step"));
  x->setLabelFormat("%.0f");
  auto* y = new QValueAxis;
  y->setTitleText(quantity_->currentText());
  y->setLabelFormat("%.3g");
  chart_->addAxis(x, Qt::AlignBottom);
  chart_->addAxis(y, Qt::AlignLeft);
  double xMax = 1, yMin = 1e300, yMax = -1e300;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const ComparedGroup& g = groups_[i];
    const QColor color = runColor(static_cast<int>(i));
    if (g.seeds > 1) {
      auto* upper = new QLineSeries, *lower = new QLineSeries;
      upper->replace(g.upper);
      lower->replace(g.lower);
      auto* band = new QAreaSeries(upper, lower);
      QColor fill = color;
      fill.setAlpha(60);
      band->setBrush(fill);
      band->setPen(Qt::NoPen);
      band->setName(QString("band %1").arg(i));
      chart_->addSeries(band);
      band->attachAxis(x);
      band->attachAxis(y);
    }
    auto* mean = new QLineSeries;
    mean->setName(g.seeds > 1 ? tr("%1 (mean of %2 seeds)").arg(g.label).arg(g.seeds) : g.label);
    mean->setPen(seriesPen(color, 2));
    mean->replace(g.mean);
    chart_->addSeries(mean);
    mean->attachAxis(x);
    mean->attachAxis(y);
    for (int k = 0; k < g.mean.size(); ++k) {
      xMax = std::max(xMax, g.mean[k].x());
      yMin = std::min(yMin, g.lower[k].y());
      yMax = std::max(yMax, g.upper[k].y());
    }
  }
  for (QLegendMarker* m : chart_->legend()->markers()) m->setVisible(!m->label().startsWith("band "));
  x->setRange(0, xMax);
  x->applyNiceNumbers();
  if (yMax > yMin) y->setRange(std::max(0.0, yMin - 0.05 * (yMax - yMin)), yMax + 0.05 * (yMax - yMin));
  y->applyNiceNumbers();
  styleChart(chart_);
  chart_->setTitle(tr("%1: %2").arg(familyName(family), quantity_->currentText()));
}

}  // namespace modlab::ui
