#include "ui/heatmap_widget.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>
#include <numeric>

#include "modlab/metrics/specialisation.h"
#include "ui/family_style.h"
#include "ui/viridis.h"

namespace modlab::ui {

HeatmapWidget::HeatmapWidget(Family family, QWidget* parent) : QWidget(parent), family_(family) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void HeatmapWidget::setMatrix(int rules, std::vector<double> moduleGivenRule, std::int64_t step) {
  rules_ = rules;
  values_ = std::move(moduleGivenRule);
  step_ = step;
  order_.resize(static_cast<std::size_t>(rules));
  std::iota(order_.begin(), order_.end(), 0);
  alignment_ = 0.0;
  if (rules > 0 && values_.size() == static_cast<std::size_t>(rules) * rules) {
    const ActivationMatrix P = ActivationMatrix::fromModuleGivenRule([&] {
      std::vector<std::vector<double>> rows(rules);
      for (int r = 0; r < rules; ++r) rows[r].assign(values_.begin() + r * rules, values_.begin() + (r + 1) * rules);
      return rows;
    }());
    alignment_ = alignment(P);
    if (hungarian_) order_ = alignmentPermutation(P);  // column r shows the module matched to rule r
  }
  update();
}

void HeatmapWidget::clear() {
  rules_ = 0;
  values_.clear();
  step_ = -1;
  update();
}

void HeatmapWidget::setHungarianOrder(bool on) {
  hungarian_ = on;
  if (rules_ > 0) setMatrix(rules_, values_, step_);
}

double HeatmapWidget::displayedValue(int row, int column) const {
  return values_[static_cast<std::size_t>(row) * rules_ + order_[column]];
}

QRect HeatmapWidget::gridRect() const {
  const QFontMetrics fm(font());
  const int left = 10 + 3 * fm.height(), top = 8 + 2 * fm.height(), right = 20 + fm.horizontalAdvance("0.5") + 20,
            bottom = 8 + 2 * fm.height();
  const int side = std::max(10, std::min(width() - left - right, height() - top - bottom));
  return QRect(left + (width() - left - right - side) / 2, top, side, side);
}

void HeatmapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette pal = palette();
  p.fillRect(rect(), pal.window());
  QFont titleFont = font();
  titleFont.setBold(true);
  const int titleHeight = QFontMetrics(titleFont).height();
  p.setFont(titleFont);
  p.setPen(familyColor(family_));
  p.drawText(QRect(0, 2, width(), titleHeight), Qt::AlignHCenter, familyName(family_));
  QFont small = font();
  small.setPointSizeF(std::max(6.0, font().pointSizeF() * 0.8));
  const QFontMetrics smallMetrics(small);
  p.setFont(small);
  p.setPen(pal.color(QPalette::WindowText));
  if (rules_ == 0) {
    p.drawText(rect(), Qt::AlignCenter, tr("no evaluation yet"));
    return;
  }
  const QString sub = tr("step %1 | Alignment %2%3")
                          .arg(step_)
                          .arg(alignment_, 0, 'f', 3)
                          .arg(hungarian_ ? tr(" | Hungarian order") : QString());
  p.drawText(QRect(0, 2 + titleHeight, width(), smallMetrics.height()), Qt::AlignHCenter,
             smallMetrics.elidedText(sub, Qt::ElideRight, width() - 4));

  const QRect g = gridRect();
  QImage image(rules_, rules_, QImage::Format_Indexed8);
  image.setColorTable(viridisTable());
  for (int r = 0; r < rules_; ++r)
    for (int c = 0; c < rules_; ++c)
      image.setPixel(c, r, static_cast<uint>(std::clamp(std::lround(displayedValue(r, c) * 255.0), 0L, 255L)));
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  p.drawImage(g, image);
  p.setPen(pal.color(QPalette::Mid));
  p.drawRect(g.adjusted(0, 0, -1, -1));

  // Axes: ticks 1..R (thinned when dense), titles.
  p.setPen(pal.color(QPalette::WindowText));
  p.setFont(small);
  const double cell = static_cast<double>(g.width()) / rules_;
  const int every = std::max(1, static_cast<int>(std::ceil((smallMetrics.horizontalAdvance("00") + 4.0) / cell)));
  for (int i = 0; i < rules_; ++i) {
    if (i % every != 0) continue;
    const int centre = static_cast<int>(g.left() + (i + 0.5) * cell);
    const QString moduleLabel = QString::number(order_[i] + 1);
    const int h = smallMetrics.height();
    p.drawText(QRect(centre - 20, g.bottom() + 2, 40, h), Qt::AlignHCenter | Qt::AlignTop, moduleLabel);
    const int middle = static_cast<int>(g.top() + (i + 0.5) * cell);
    p.drawText(QRect(g.left() - 44, middle - h / 2, 40, h), Qt::AlignRight | Qt::AlignVCenter, QString::number(i + 1));
  }
  p.setFont(font());
  const int lineHeight = QFontMetrics(font()).height();
  p.drawText(QRect(g.left(), g.bottom() + 2 + smallMetrics.height(), g.width(), lineHeight), Qt::AlignHCenter, tr("Module"));
  p.save();
  p.translate(g.left() - 8 - smallMetrics.horizontalAdvance("00") - lineHeight, g.center().y());
  p.rotate(-90);
  p.drawText(QRect(-g.height() / 2, 0, g.height(), lineHeight), Qt::AlignHCenter, tr("Rule"));
  p.restore();

  // Colour bar: p(module | rule) from 0 to 1.
  const QRect bar(g.right() + 12, g.top(), 12, g.height());
  QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
  for (int i = 0; i <= 10; ++i) gradient.setColorAt(i / 10.0, viridis(i / 10.0));
  p.fillRect(bar, gradient);
  p.setPen(pal.color(QPalette::Mid));
  p.drawRect(bar.adjusted(0, 0, -1, -1));
  p.setPen(pal.color(QPalette::WindowText));
  p.setFont(small);
  for (double v : {0.0, 0.5, 1.0}) {
    const int y = static_cast<int>(bar.bottom() - v * bar.height());
    p.drawText(QRect(bar.right() + 3, y - smallMetrics.height() / 2, 40, smallMetrics.height()), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(v, 'g', 2));
  }
}

void HeatmapWidget::mouseMoveEvent(QMouseEvent* e) {
  const QRect g = gridRect();
  if (rules_ == 0 || !g.contains(e->position().toPoint())) {
    QToolTip::hideText();
    return;
  }
  const double cell = static_cast<double>(g.width()) / rules_;
  const int c = std::min(rules_ - 1, static_cast<int>((e->position().x() - g.left()) / cell));
  const int r = std::min(rules_ - 1, static_cast<int>((e->position().y() - g.top()) / cell));
  QToolTip::showText(e->globalPosition().toPoint(),
                     tr("%1\nrule %2, module %3\np(module | rule) = %4")
                         .arg(familyName(family_))
                         .arg(r + 1)
                         .arg(order_[c] + 1)
                         .arg(displayedValue(r, c), 0, 'f', 4),
                     this);
}

QString HeatmapWidget::toCsv() const {
  QString out = "family,step,rule,module,p_module_given_rule\n";
  for (int r = 0; r < rules_; ++r)
    for (int m = 0; m < rules_; ++m)
      out += QString("%1,%2,%3,%4,%5\n")
                 .arg(familyName(family_))
                 .arg(step_)
                 .arg(r + 1)
                 .arg(m + 1)
                 .arg(values_[static_cast<std::size_t>(r) * rules_ + m], 0, 'g', 9);
  return out;
}

HeatmapPanel::HeatmapPanel(QWidget* parent) : QWidget(parent) {
  hungarian_ = new QCheckBox(tr("Hungarian order"));
  hungarian_->setToolTip(tr("Reorder the modules by the matching that maximises p(module | rule) on the diagonal: "
                            "a perfectly specialised model shows a diagonal"));
  auto* top = new QHBoxLayout;
  top->setContentsMargins(6, 2, 6, 0);
  auto* title = new QLabel(tr("<b>Activation heatmaps</b>: p(module | rule)"));
  top->addWidget(title);
  top->addStretch();
  top->addWidget(hungarian_);
  row_ = new QHBoxLayout;
  empty_ = new QLabel(tr("Monolithic has no modules: add a modular family to see its heatmap."));
  empty_->setAlignment(Qt::AlignCenter);
  row_->addWidget(empty_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addLayout(row_, 1);
  connect(hungarian_, &QCheckBox::toggled, this, &HeatmapPanel::setHungarianOrder);
}

void HeatmapPanel::setData(const RunData* data) {
  data_ = data;
  rebuild();
}

void HeatmapPanel::rebuild() {
  for (HeatmapWidget* h : heatmaps_) delete h;
  heatmaps_.clear();
  if (!data_) return;
  for (Family f : data_->families()) {
    if (!isModular(f)) continue;
    auto* h = new HeatmapWidget(f, this);
    h->setHungarianOrder(hungarian_->isChecked());
    row_->addWidget(h, 1);
    heatmaps_.push_back(h);
  }
  empty_->setVisible(heatmaps_.empty());
  refresh();
}

void HeatmapPanel::refresh() {
  if (!data_) return;
  for (HeatmapWidget* h : heatmaps_) {
    const FamilyEvaluation* e = data_->latestEvaluation(h->family());
    std::int64_t step = -1;
    for (auto it = data_->evaluations().rbegin(); it != data_->evaluations().rend() && e; ++it)
      for (const FamilyEvaluation& f : it->families)
        if (&f == e) step = it->step;
    if (e && e->rules > 0) h->setMatrix(e->rules, e->moduleGivenRule, step);
    else h->clear();
  }
}

void HeatmapPanel::showEvaluation(std::size_t index) {
  if (!data_ || index >= data_->evaluations().size()) return;
  const EvaluationSnapshot& e = data_->evaluations()[index];
  for (HeatmapWidget* h : heatmaps_)
    for (const FamilyEvaluation& f : e.families)
      if (f.family == h->family() && f.rules > 0) h->setMatrix(f.rules, f.moduleGivenRule, e.step);
}

void HeatmapPanel::setHungarianOrder(bool on) {
  hungarian_->blockSignals(true);
  hungarian_->setChecked(on);
  hungarian_->blockSignals(false);
  for (HeatmapWidget* h : heatmaps_) h->setHungarianOrder(on);
}

QString HeatmapPanel::toCsv() const {
  QString out;
  for (std::size_t i = 0; i < heatmaps_.size(); ++i) {
    const QString csv = heatmaps_[i]->toCsv();
    out += i == 0 ? csv : csv.section('\n', 1);
  }
  return out;
}

}  // namespace modlab::ui
