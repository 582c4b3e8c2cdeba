#include "ui/windows/compare_window.h"

#include <QBoxLayout>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QScreen>
#include <QPixmap>
#include <QIcon>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QChart>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

#include "ui/style/appearance.h"
#include "ui/charts/chart_axes.h"
#include "ui/export/chart_export.h"
#include "ui/charts/chart_figure.h"
#include "ui/charts/chart_legend.h"
#include "ui/style/flow_layout.h"
#include "ui/data/training_controller.h"

namespace modlab::ui {

QColor runColor(int index) {
  static const QColor colors[] = {QColor("#4477AA"), QColor("#EE6677"), QColor("#228833"), QColor("#CCBB44"),
                                  QColor("#66CCEE"), QColor("#AA3377"), QColor("#BBBBBB")};
  return colors[index % 7];
}

namespace {
QString keyName(QString key) { return key.replace('_', ' '); }

// Every model the runs trained (Variant::name), in the order first seen.
std::vector<Variant> modelsOf(const std::vector<RunRecord>& runs) {
  std::vector<Variant> out;
  for (const RunRecord& r : runs)
    for (const Variant& v : variantsOf(r.config))
      if (std::none_of(out.begin(), out.end(), [&](const Variant& o) { return o.name == v.name; })) out.push_back(v);
  return out;
}
}  // namespace

CompareWindow::CompareWindow(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Compare runs"));
  // 1200 x 760 where the screen has room; within it otherwise ("Add run folder..." stays on a 720-px screen).
  const QRect screen = parent && parent->screen() ? parent->screen()->availableGeometry() : QRect(0, 0, 1280, 720);
  resize(std::min(1200, screen.width() * 9 / 10), std::min(760, screen.height() * 9 / 10));
  list_ = new QListWidget;
  list_->setToolTip(tr("Tick the runs to compare; runs that differ only by seeds are averaged"));
  // Every line of a row in the column's width: long folder names keep their start and end.
  list_->setTextElideMode(Qt::ElideMiddle);
  list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto* add = new QPushButton(tr("Add run folder..."));
  model_ = new QComboBox;
  model_->addItem(tr("All models"));
  model_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  quantity_ = new QComboBox;
  const std::pair<QString, CompareQuantity> quantities[] = {
      {tr("Train loss"), CompareQuantity::TrainLoss},         {tr("ID loss"), CompareQuantity::IdLoss},
      {tr("OoD loss"), CompareQuantity::OodLoss},             {tr("ID error % / L1"), CompareQuantity::IdError},
      {tr("OoD error % / L1"), CompareQuantity::OodError},    {tr("Collapse-Avg"), CompareQuantity::CollapseAvg},
      {tr("Collapse-Worst"), CompareQuantity::CollapseWorst}, {tr("Alignment"), CompareQuantity::Alignment},
      {tr("Adaptation"), CompareQuantity::Adaptation},        {tr("Inverse MI"), CompareQuantity::InverseMI}};
  for (const auto& [name, q] : quantities) quantity_->addItem(name, int(q));
  log_ = new QCheckBox(tr("Log y"));
  smoothing_ = new QSlider(Qt::Horizontal);
  smoothing_->setRange(0, 99);
  smoothing_->setValue(90);
  smoothing_->setToolTip(tr("Exponential moving average of the training loss (as in the main chart); 0 turns it off"));
  smoothingLabel_ = new QLabel;
  differs_ = new QLabel;
  differs_->setWordWrap(true);
  skipped_ = new QLabel;  // runs of the runs folder that could not be read: said, not dropped silently
  skipped_->setWordWrap(true);
  skipped_->setObjectName("SkippedRuns");
  skipped_->hide();
  filter_ = new QLineEdit;
  filter_->setPlaceholderText(tr("Filter runs"));
  filter_->setAccessibleName(tr("Filter runs"));
  filter_->setClearButtonEnabled(true);
  connect(filter_, &QLineEdit::textChanged, this, &CompareWindow::setFilter);
  figure_ = new ChartFigure;
  grid_ = new QGridLayout;
  grid_->setSpacing(2);
  figure_->body()->addLayout(grid_, 1);
  figure_->setCaption(tr("<small>Lines: the mean of the runs in a group; bands: one standard deviation (runs that differ only by seeds).</small>"));
  installExportMenu(figure_, "comparison", [this] { return toCsv(); });
  addRestyleHook(this, [this] { redraw(); });  // the theme of the moment (an export on white)

  auto* left = new QWidget;
  auto* ll = new QVBoxLayout(left);
  ll->addWidget(new QLabel(tr("Runs")));
  ll->addWidget(filter_);
  ll->addWidget(list_, 1);
  ll->addWidget(skipped_);
  ll->addWidget(add);
  auto* right = new QWidget;
  auto* rl = new QVBoxLayout(right);
  auto* pick = new FlowLayout;
  for (QWidget* w : std::initializer_list<QWidget*>{new QLabel(tr("Model")), model_, new QLabel(tr("Curve")), quantity_, log_})
    pick->addWidget(w);
  auto* smoothingBox = new QWidget;
  auto* sl = new QHBoxLayout(smoothingBox);
  sl->setContentsMargins(0, 0, 0, 0);
  sl->addWidget(new QLabel(tr("Smoothing")));
  sl->addWidget(smoothing_);
  sl->addWidget(smoothingLabel_);
  pick->addWidget(smoothingBox);
  rl->addLayout(pick);
  rl->addWidget(differs_);
  rl->addWidget(figure_, 1);
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
  connect(model_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
  connect(quantity_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
  connect(log_, &QCheckBox::toggled, this, [this] { redraw(); });
  connect(smoothing_, &QSlider::valueChanged, this, [this] { redraw(); });
  connect(figure_->legend(), &ChartLegend::toggled, this, [this](int index, bool shown) {
    for (ChartView* v : views_)
      for (QAbstractSeries* s : v->chart()->series())
        if (s->property("group").toInt() == index) s->setVisible(shown);
  });
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
  auto* item = new QListWidgetItem(QString("%1\n%2 %3, R=%4, size %5\ndata seed %6, model seed %7")
                                       .arg(QFileInfo(directory).fileName(), QString::fromStdString(toString(r.config.setting)),
                                            QString::fromStdString(toString(r.config.task)))
                                       .arg(r.config.rules)
                                       .arg(r.config.size)
                                       .arg(r.config.dataSeed)
                                       .arg(r.config.modelSeed));
  item->setData(Qt::UserRole, directory);
  item->setToolTip(directory + "\n" + item->text().section('\n', 1).replace('\n', ", "));
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
  QStringList skipped;
  for (const QFileInfo& info : root.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time)) {
    if (!QFileInfo::exists(info.filePath() + "/config.json")) continue;
    QString error;
    if (addRun(info.filePath(), &error)) list_->item(list_->count() - 1)->setCheckState(Qt::Unchecked);
    else skipped << tr("%1: %2").arg(info.fileName(), error.toHtmlEscaped());
  }
  skipped_->setText(skipped.isEmpty() ? QString() : tr("<b>Not listed</b> (cannot be read):<br>%1").arg(skipped.join("<br>")));
  skipped_->setVisible(!skipped.isEmpty());
}

QString CompareWindow::skippedText() const { return skipped_->text(); }

void CompareWindow::setFilter(const QString& text) {
  for (int i = 0; i < list_->count(); ++i) {
    QListWidgetItem* item = list_->item(i);
    item->setHidden(!text.isEmpty() && !item->text().contains(text, Qt::CaseInsensitive) &&
                    !item->data(Qt::UserRole).toString().contains(text, Qt::CaseInsensitive));
  }
}

void CompareWindow::setVariant(const QString& variant) {
  const int index = model_->findData(variant);
  if (index > 0) model_->setCurrentIndex(index);
}
void CompareWindow::setAllModels() { model_->setCurrentIndex(0); }
void CompareWindow::setQuantity(CompareQuantity quantity) { quantity_->setCurrentIndex(quantity_->findData(int(quantity))); }
void CompareWindow::setLogScale(bool log) { log_->setChecked(log); }
void CompareWindow::setSmoothing(double smoothing) { smoothing_->setValue(static_cast<int>(std::lround(smoothing * 100))); }

const std::vector<ComparedGroup>& CompareWindow::groupsOf(const std::string& variant) const {
  static const std::vector<ComparedGroup> none;
  for (const auto& [name, groups] : panels_)
    if (name == variant) return groups;
  return none;
}

std::vector<std::string> CompareWindow::shownVariants() const {
  std::vector<std::string> out;
  for (const auto& [name, groups] : panels_) out.push_back(name);
  return out;
}

// The model combo: "All models", then every model of the chosen runs; the choice kept by name.
void CompareWindow::updateModels(const std::vector<Variant>& models) {
  QStringList names, listed;
  for (const Variant& v : models) names << QString::fromStdString(v.name);
  for (int i = 1; i < model_->count(); ++i) listed << model_->itemData(i).toString();
  if (names == listed) return;
  const QString current = model_->currentIndex() > 0 ? model_->currentData().toString() : QString();
  const QSignalBlocker block(model_);
  model_->clear();
  model_->addItem(tr("All models"));
  for (const QString& name : names) model_->addItem(name, name);
  model_->setCurrentIndex(current.isEmpty() ? 0 : std::max(0, model_->findData(current)));
}

QChartView* CompareWindow::chartView() const { return views_.empty() ? nullptr : views_.front(); }

QString CompareWindow::differsText() const { return differs_->text(); }

QString CompareWindow::toCsv() const {
  // What the chart draws: each group's mean and its band (mean -/+ one sd over the seeds), after
  // the smoothing named in its column (the training loss only; 0: none).
  const bool smoothed = quantity_->currentIndex() == static_cast<int>(CompareQuantity::TrainLoss);
  const double smoothing = smoothed ? smoothing_->value() / 100.0 : 0.0;
  QString csv = "model,quantity,group,seeds,step,mean,lower_mean_minus_sd,upper_mean_plus_sd,smoothing\n";
  for (const auto& [variant, groups] : panels_)
    for (const ComparedGroup& g : groups)
      for (int i = 0; i < g.mean.size(); ++i)
        csv += QString("%1,%2,\"%3\",%4,%5,%6,%7,%8,%9\n")
                   .arg(QString::fromStdString(variant), quantity_->currentText(), g.label)
                   .arg(g.seeds)
                   .arg(g.mean[i].x())
                   .arg(g.mean[i].y(), 0, 'g', 9)
                   .arg(g.lower[i].y(), 0, 'g', 9)
                   .arg(g.upper[i].y(), 0, 'g', 9)
                   .arg(smoothing);
  return csv;
}

void CompareWindow::redraw() {
  std::vector<RunRecord> chosen;
  QStringList chosenSources;
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->checkState() == Qt::Checked) {
      chosen.push_back(records_[static_cast<std::size_t>(i)]);
      chosenSources << sources_[i];
    }
  const auto quantity = CompareQuantity(quantity_->currentData().toInt());
  const bool trainLoss = quantity == CompareQuantity::TrainLoss;
  smoothing_->setEnabled(trainLoss);
  const double smoothing = trainLoss ? smoothing_->value() / 100.0 : 0.0;
  smoothingLabel_->setText(smoothing_->value() == 0 ? tr("off") : QString::number(smoothing_->value() / 100.0, 'f', 2));
  smoothingLabel_->setMinimumWidth(smoothingLabel_->fontMetrics().horizontalAdvance("0.00 "));

  // The models: the chosen one, or every model any chosen run trained (metrics: modular ones).
  const std::vector<Variant> models = modelsOf(chosen);
  updateModels(models);
  std::vector<std::string> shown;
  if (model_->currentIndex() > 0) shown.push_back(model_->currentData().toString().toStdString());
  else
    for (const Variant& v : models)
      if (!isMetric(quantity) || isModular(v.family)) shown.push_back(v.name);
  panels_.clear();
  for (const std::string& v : shown) panels_.push_back({v, compareRuns(chosen, chosenSources, v, quantity, smoothing)});
  groups_ = panels_.empty() ? std::vector<ComparedGroup>{} : panels_.front().second;

  std::vector<ExperimentConfig> configs;
  for (const RunRecord& r : chosen) configs.push_back(r.config);
  QStringList keys = differingKeys(configs), seeds = differingSeedKeys(configs);
  for (QString& k : keys) k = keyName(k);
  for (QString& k : seeds) k = keyName(k);
  QString text;
  if (chosen.size() < 2) text = tr("Tick two or more runs to compare them.");
  else {
    text = keys.isEmpty() ? tr("The runs have the same experiment.") : tr("Differs: <b>%1</b>.").arg(keys.join(", "));
    if (!seeds.isEmpty())
      text += " " + tr("Averaged over: <b>%1</b> (runs that differ only by these are one line: their mean, with a band of one "
                       "standard deviation).").arg(seeds.join(", "));
    const bool mixedTasks = std::any_of(chosen.begin(), chosen.end(), [&](const RunRecord& r) { return r.config.task != chosen.front().config.task; });
    if (mixedTasks && !isMetric(quantity))
      text += " " + tr("<b>Classification and regression share this axis</b>: their losses (BCE, L1) and errors (%, L1) are "
                       "not on one scale.");
  }
  differs_->setText(text);

  // One panel per model, two columns.
  for (ChartView* v : views_) delete v;
  views_.clear();
  const int columns = panels_.size() > 1 ? 2 : 1;
  const bool log = log_->isChecked();
  for (std::size_t p = 0; p < panels_.size(); ++p) {
    const auto& [variant, groups] = panels_[p];
    auto* chart = new QChart;
    chart->legend()->hide();
    chart->setMargins(QMargins(2, 2, 6, 2));
    chart->setBackgroundRoundness(0);
    chart->setTitle(QString::fromStdString(variant));
    auto* view = new ChartView(chart);
    view->setZoomable(true);
    view->setMinimumLines(8);
    view->setDescriber([](QXYSeries* s, const QPointF& pt) {
      if (s->name().isEmpty()) return QString();
      return tr("%1\nstep %2: %3").arg(s->name()).arg(pt.x(), 0, 'f', 0).arg(pt.y(), 0, 'g', 4);
    });
    installExportMenu(view, figure_, "comparison", [this] { return toCsv(); });
    auto* x = new QValueAxis;
    x->setTitleText(tr("Step"));
    x->setLabelFormat("%.0f");
    QAbstractAxis* y;
    if (log) {
      auto* axis = new QLogValueAxis;
      axis->setLabelFormat("%g");
      axis->setMinorTickCount(8);
      y = axis;
    } else {
      auto* axis = new QValueAxis;
      axis->setLabelFormat("%.3g");
      y = axis;
    }
    y->setTitleText(quantity_->currentText());
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double xMax = 1, yMin = 1e300, yMax = -1e300;
    auto positive = [log](QVector<QPointF> points) {
      if (!log) return points;
      for (QPointF& p : points) p.setY(std::max(p.y(), 1e-9));
      return points;
    };
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const ComparedGroup& g = groups[i];
      const QColor color = runColor(static_cast<int>(i));
      if (g.seeds > 1) {
        auto *upper = new QLineSeries, *lower = new QLineSeries;
        upper->replace(positive(g.upper));
        lower->replace(positive(g.lower));
        auto* band = new QAreaSeries(upper, lower);
        QColor fill = color;
        fill.setAlpha(60);
        band->setBrush(fill);
        band->setPen(Qt::NoPen);
        band->setProperty("group", static_cast<int>(i));
        chart->addSeries(band);
        band->attachAxis(x);
        band->attachAxis(y);
      }
      auto* mean = new QLineSeries;
      mean->setName(g.seeds > 1 ? tr("%1 (mean of %2 runs)").arg(g.label).arg(g.seeds) : g.label);
      mean->setPen(seriesPen(color, 2));
      mean->replace(positive(g.mean));
      mean->setPointsVisible(g.mean.size() < 40);
      mean->setProperty("group", static_cast<int>(i));
      chart->addSeries(mean);
      mean->attachAxis(x);
      mean->attachAxis(y);
      for (int k = 0; k < g.mean.size(); ++k) {
        xMax = std::max(xMax, g.mean[k].x());
        yMin = std::min(yMin, g.lower[k].y());
        yMax = std::max(yMax, g.upper[k].y());
      }
    }
    styleChart(chart);
    if (!(yMax > yMin)) yMin = 0, yMax = 1;
    if (log) {
      double lo = std::max(yMin, 1e-6), hi = yMax;
      roundOutToDecades(lo, hi);
      setDecadeRange(y, lo, hi);
    } else {
      const double pad = 0.05 * (yMax - yMin);
      fitValueAxis(chart, static_cast<QValueAxis*>(y), isMetric(quantity) ? std::max(0.0, yMin - pad) : std::max(0.0, yMin - pad), yMax + pad);
    }
    fitValueAxis(chart, x, 0, xMax);
    grid_->addWidget(view, static_cast<int>(p) / columns, static_cast<int>(p) % columns);
    views_.push_back(view);
  }
  // The key: one entry per group (with its band when it averages several runs).
  ChartLegend* legend = figure_->legend();
  legend->clear();
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const ComparedGroup& g = groups_[i];
    legend->addEntry({g.seeds > 1 ? tr("%1 (mean ± sd of %2 runs)").arg(g.label).arg(g.seeds) : g.label, runColor(static_cast<int>(i)),
                      g.seeds > 1 ? ChartLegend::Marker::Band : ChartLegend::Marker::Line, Qt::SolidLine, true,
                      g.detail + "\n\n" + g.sources.join('\n')});
  }
  // Each ticked run's row shows the colour of its curve (its group's).
  for (int row = 0; row < list_->count(); ++row) {
    QListWidgetItem* item = list_->item(row);
    int group = -1;
    for (std::size_t i = 0; i < groups_.size() && group < 0; ++i)
      if (groups_[i].sources.contains(item->data(Qt::UserRole).toString())) group = static_cast<int>(i);
    QPixmap swatch(12, 12);
    swatch.fill(group >= 0 ? runColor(group) : QColor(Qt::transparent));
    const QSignalBlocker block(list_);
    item->setIcon(QIcon(swatch));
    item->setData(Qt::UserRole + 1, group);
  }
  // The panels share their steps: zoomed and panned together.
  for (ChartView* v : views_) {
    v->setLimitsFromAxes();
    connect(v, &ChartView::xRangeChanged, this, [this, v](double lo, double hi) {
      for (ChartView* other : views_)
        if (other != v) other->setXRange(lo, hi);
    });
  }
  const QString by = panels_.size() == 1 ? QString::fromStdString(panels_.front().first) : tr("model");
  figure_->setTitle(tr("%1 by %2").arg(quantity_->currentText(), by));
}

}  // namespace modlab::ui
