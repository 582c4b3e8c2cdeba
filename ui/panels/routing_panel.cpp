#include "ui/panels/routing_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>

#include "ui/style/appearance.h"
#include "ui/charts/chart_axes.h"
#include "ui/charts/chart_figure.h"
#include "ui/style/family_style.h"

namespace modlab::ui {

namespace {
struct PartStyle {
  RunData::LossPart part;
  const char* name;
  QColor color;
  Qt::PenStyle style;
};

const std::vector<PartStyle>& partStyles() {
  static const std::vector<PartStyle> styles{
      {RunData::LossPart::Objective, "objective (task loss + weighted terms)", QColor(0x44, 0x44, 0x44), Qt::SolidLine},
      {RunData::LossPart::Balance, "balance R sum f P", QColor(0xd9, 0x5f, 0x02), Qt::SolidLine},
      {RunData::LossPart::SampleEntropy, "sample entropy H(p)", QColor(0x75, 0x70, 0xb3), Qt::DashLine},
      {RunData::LossPart::BatchEntropy, "batch entropy H(mean p)", QColor(0x1b, 0x9e, 0x77), Qt::DotLine},
  };
  return styles;
}

QDoubleSpinBox* coefficientBox(double lo, double hi, int decimals, double step, const QString& tip) {
  auto* box = new QDoubleSpinBox;
  box->setRange(lo, hi);
  box->setDecimals(decimals);
  box->setSingleStep(step);
  box->setToolTip(tip);
  box->setKeyboardTracking(false);
  return box;
}
}  // namespace

RoutingPanel::RoutingPanel(QWidget* parent) : QWidget(parent) {
  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  const struct {
    const char* key;
    QString label;
    double lo, hi;
    int decimals;
    double step;
    QString tip;
  } specs[] = {
      {"balance_loss", tr("Load balance"), 0.0, 100.0, 4, 0.01,
       tr("Switch Transformers' load-balancing loss: coefficient x R x sum over modules of (fraction of decisions whose "
          "top module is i) x (mean probability of i); 1 when balanced")},
      {"sample_entropy_loss", tr("Sample entropy"), 0.0, 100.0, 4, 0.01,
       tr("Penalty on each decision's routing entropy H(p): pushes towards sharp choices")},
      {"batch_entropy_loss", tr("Batch entropy"), 0.0, 100.0, 4, 0.01,
       tr("Reward for the entropy of the batch-mean routing H(mean p): pushes towards using every module")},
      {"routing_temperature", tr("Temperature"), 0.01, 100.0, 2, 0.1, tr("Softmax temperature T: p = softmax(scores / T)")},
  };
  for (const auto& s : specs) {
    QDoubleSpinBox* box = coefficientBox(s.lo, s.hi, s.decimals, s.step, s.tip);
    const QString key = QString::fromLatin1(s.key);
    rows_.push_back({key, box});
    form->addRow(s.label, box);
    connect(box, &QDoubleSpinBox::editingFinished, this, [this, key, box] {
      if (box->isEnabled()) Q_EMIT coefficientChanged(key, box->value(), model_->currentData().toString());
    });
  }
  mode_ = new QLabel;
  mode_->setWordWrap(true);
  note_ = new QLabel;
  note_->setWordWrap(true);
  model_ = new QComboBox;
  model_->setToolTip(tr("The routed model whose coefficients and loss parts are shown. Modular and Modular-op share "
                        "the experiment's routing; each named variant has its own."));
  model_->setObjectName("RoutingModel");
  connect(model_, &QComboBox::currentIndexChanged, this, [this] {
    drawnModel_ = QStringLiteral("\n");  // redraw
    for (const Row& row : rows_) row.box->clearFocus();
  });

  chart_ = new QChart;
  chart_->legend()->hide();  // the key below wraps instead of eliding
  key_ = new QLabel;
  key_->setWordWrap(true);
  key_->setTextFormat(Qt::RichText);
  styleChart(chart_);
  auto* view = new ChartView(chart_);  // minimum size from the font, ticks refitted on resize (issue 11)
  view->setMinimumLines(9);            // a title, the axis labels and title, and a plot
  view_ = view;

  auto* layout = new QVBoxLayout(this);
  auto* title = new QLabel(tr("<b>Routing of Modular and Modular-op</b> (beyond the paper)"));
  title->setWordWrap(true);
  layout->addWidget(title);
  layout->addWidget(model_);
  layout->addLayout(form);
  layout->addWidget(mode_);
  layout->addWidget(view_, 1);
  layout->addWidget(key_);
  layout->addWidget(note_);
  layout->addStretch();  // without a chart (no intervention) the rest stays at the top
}

std::string RoutingPanel::shownModel() const { return model_->currentText().toStdString(); }

void RoutingPanel::showData(const RunData& data, bool live) {
  // The routed models; a family's coefficients are the experiment's routing.
  QStringList names, targets;
  for (std::size_t i = 0; i < data.variants().size(); ++i) {
    const Variant& v = data.variants()[i];
    if (!isRouted(v.family)) continue;
    names << QString::fromStdString(v.name);
    targets << (i < data.config().families.size() ? QString() : QString::fromStdString(v.name));
  }
  QStringList current;
  for (int i = 0; i < model_->count(); ++i) current << model_->itemText(i);
  if (current != names) {
    const QSignalBlocker block(model_);
    const QString chosen = model_->currentText();
    model_->clear();
    for (int i = 0; i < names.size(); ++i) model_->addItem(names[i], targets[i]);
    // Another run: its first model with an intervention, else the one shown before.
    int index = -1;
    for (int i = 0; i < names.size() && index < 0; ++i)
      if (!data.variant(names[i].toStdString())->routing.isPaper()) index = i;
    model_->setCurrentIndex(std::max(0, index >= 0 ? index : model_->findText(chosen)));
    drawnModel_ = QStringLiteral("\n");
  }
  model_->setVisible(names.size() > 1);
  const bool routed = !names.isEmpty();
  const Variant* shown = data.variant(shownModel());
  const RoutingOptions& r = shown ? shown->routing : data.routing();
  for (const Row& row : rows_) {
    row.box->setEnabled(live && routed);
    if (!row.box->hasFocus()) {
      const QSignalBlocker block(row.box);
      row.box->setValue(routingCoefficient(r, row.key.toStdString()));
    }
  }
  QString mode = r.mode == RoutingMode::Soft     ? tr("soft (the paper's)")
                 : r.mode == RoutingMode::TopOne ? tr("top-1, straight-through gradients")
                                                 : tr("Gumbel-softmax, tau %1 to %2 (rate %3 per step)")
                                                       .arg(r.gumbelTemperature)
                                                       .arg(r.gumbelMinTemperature)
                                                       .arg(r.gumbelAnnealRate);
  mode_->setText(tr("Routing: %1").arg(mode));
  note_->setText(!routed  ? tr("This experiment has no Modular or Modular-op family.")
                 : live   ? tr("Changes apply from the next step and are recorded in the run (run.json).")
                          : tr("Start a run to change the coefficients while it trains."));
  redrawChart(data, live);
}

void RoutingPanel::redrawChart(const RunData& data, bool live) {
  const std::string family = shownModel();
  const bool sameView = drawnChanges_ == data.routingChanges().size() && drawnModel_ == model_->currentText();
  const bool recent = live && sinceDrawn_.isValid() && sinceDrawn_.elapsed() < 500;  // throttled while training
  if (sameView && (drawnStep_ == data.step() || recent)) return;
  sinceDrawn_.start();
  drawnStep_ = data.step();
  drawnChanges_ = data.routingChanges().size();
  drawnModel_ = model_->currentText();
  chart_->removeAllSeries();
  removeAxes(chart_);
  auto* x = new QValueAxis;
  x->setTitleText(tr("step"));
  x->setLabelFormat("%d");
  auto* y = new QValueAxis;
  y->setLabelFormat("%.3g");
  chart_->addAxis(x, Qt::AlignBottom);
  chart_->addAxis(y, Qt::AlignLeft);
  double xMax = 1, yMin = 0, yMax = 1e-9;
  bool any = false;
  for (const PartStyle& s : partStyles()) {
    const QVector<QPointF> points = thin(data.lossPart(family, s.part), 600);
    if (points.isEmpty()) continue;
    auto* line = new QLineSeries;
    line->setName(tr(s.name));
    line->setPen(seriesPen(s.color, 1.5, s.style));
    line->replace(points);
    chart_->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
    for (const QPointF& p : points) {
      xMax = std::max(xMax, p.x());
      yMax = std::max(yMax, p.y());
      yMin = std::min(yMin, p.y());
    }
    any = true;
  }
  // The moments a coefficient of this model changed: a vertical line each.
  const QString target = model_->currentData().toString();
  auto concerns = [&](const RoutingChange& c) { return QString::fromStdString(c.variant) == target; };
  for (const RoutingChange& c : data.routingChanges()) {
    if (!concerns(c)) continue;
    auto* mark = new QLineSeries;
    mark->setName(tr("%1 = %2 at step %3").arg(QString::fromStdString(c.key)).arg(c.value).arg(c.step));
    mark->setPen(seriesPen(QColor(0xe7, 0x29, 0x8a), 1.5, Qt::DashDotLine));
    mark->append(static_cast<double>(c.step), yMin);
    mark->append(static_cast<double>(c.step), yMax * 1.05);
    chart_->addSeries(mark);
    mark->attachAxis(x);
    mark->attachAxis(y);
    xMax = std::max(xMax, static_cast<double>(c.step));
  }
  QStringList key;
  for (const PartStyle& s : partStyles())
    if (!data.lossPart(family, s.part).isEmpty())
      key << QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2").arg(s.color.name(), tr(s.name).toHtmlEscaped());
  for (const RoutingChange& c : data.routingChanges())
    if (concerns(c))
      key << QStringLiteral("<span style=\"color:#e7298a\">&#9474;</span>&nbsp;%1")
               .arg(tr("%1 = %2 at step %3").arg(QString::fromStdString(c.key)).arg(c.value).arg(c.step).toHtmlEscaped());
  key_->setText(key.join(QStringLiteral(" &nbsp; ")));
  // Short chart title (a chart elides what does not fit); the longer explanation is the note's.
  chart_->setTitle(any ? tr("%1: loss parts").arg(QString::fromStdString(family)) : QString());
  if (!any) note_->setText(note_->text() + " " + tr("Loss parts appear once an intervention is on."));
  view_->setVisible(any);  // no empty chart: the note says when it appears
  styleChart(chart_);
  fitValueAxis(chart_, x, 0, xMax);
  fitValueAxis(chart_, y, yMin, yMax * 1.05);
}

}  // namespace modlab::ui
