#include "ui/heatmaps/heatmap_widget.h"

#include "modlab/experiment/run_csv.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QResizeEvent>
#include <algorithm>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>
#include <numeric>

#include "modlab/metrics/specialisation.h"
#include "ui/style/appearance.h"
#include "ui/style/family_style.h"
#include "ui/style/flow_layout.h"
#include "ui/heatmaps/viridis.h"

namespace modlab::ui {

HeatmapWidget::HeatmapWidget(const RunData* data, std::string variant, QWidget* parent)
    : QWidget(parent), data_(data), variant_(std::move(variant)), title_(QString::fromStdString(variant_)) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setAccessibleName(tr("p(module | rule) heatmap of %1").arg(title_));
}

void HeatmapWidget::setMatrix(int rules, std::vector<double> moduleGivenRule, std::int64_t step) {
  if (rules != rules_) updateGeometry();  // the minimum width holds 3 px per rule
  rules_ = rules;
  values_ = std::move(moduleGivenRule);
  step_ = step;
  order_.resize(static_cast<std::size_t>(rules));
  std::iota(order_.begin(), order_.end(), 0);
  alignment_ = 0.0;
  if (rules > 0 && values_.size() == static_cast<std::size_t>(rules) * rules) {
    const ActivationMatrix P = ActivationMatrix::fromModuleGivenRule(rules, values_);
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

void HeatmapWidget::setSharedAxes(bool ruleAxis, bool colourBar) {
  ruleAxis_ = ruleAxis;
  colourBar_ = colourBar;
  updateGeometry();
  update();
}

QSize HeatmapWidget::minimumSizeHint() const {
  // As wide as the title, the axes this heatmap draws (the rule labels on the first, the
  // colour bar on the last) and a grid of two lines' height, with cells of at least 3 px.
  const QFontMetrics fm(font());
  const QFont small = smallFont(font());
  const QFontMetrics sm(small);
  QFont titleFont = font();
  titleFont.setBold(true);
  const int left = ruleAxis_ ? 10 + fm.height() + sm.horizontalAdvance("000") + 6 : 8,
            right = colourBar_ ? 12 + 12 + sm.horizontalAdvance("0.5") + 10 + sm.height() + 2 : 8;
  const int grid = std::max(3 * rules_, 2 * fm.height());
  const int width = std::max(QFontMetrics(titleFont).horizontalAdvance(title_) + 8, left + right + grid);
  return {width, fm.height() * 7 + 10};
}

QSize HeatmapWidget::sizeHint() const {
  const QFontMetrics fm(font());
  return {fm.height() * 17, fm.height() * 18};
}

QStringList HeatmapWidget::subtitleLines(int width, bool standalone) const {
  if (rules_ == 0) return {};
  const QFont small = smallFont(font());
  const QFontMetrics fm(small);
  // On screen the panel's header names the step; an export says it under each title.
  QStringList parts;
  if (standalone) parts << tr("step %1").arg(step_);
  parts << tr("Alignment %1").arg(alignment_, 0, 'f', 3);
  if (hungarian_ && standalone) parts << tr("Hungarian order");
  // As many parts per line as fit: wrapped onto further lines rather than cut off.
  QStringList lines;
  for (const QString& part : parts) {
    if (!lines.isEmpty() && fm.horizontalAdvance(lines.back() + " | " + part) <= width - 4) lines.back() += " | " + part;
    else lines << part;
  }
  return lines;
}

QRect HeatmapWidget::gridRectIn(const QRect& area, bool standalone) const {
  const QFontMetrics fm(font());
  const QFont small = smallFont(font());
  const QFontMetrics sm(small);
  QFont titleFont = font();
  titleFont.setBold(true);
  const int subtitle = std::max<int>(1, static_cast<int>(subtitleLines(area.width(), standalone).size()));
  const int left = ruleAxis_ ? 10 + fm.height() + sm.horizontalAdvance("000") + 6 : 8,
            top = 6 + QFontMetrics(titleFont).height() + subtitle * sm.height(),
            right = colourBar_ ? 12 + 12 + sm.horizontalAdvance("0.5") + 10 + sm.height() + 2 : 8, bottom = 6 + sm.height() + fm.height();
  const int side = std::max(10, std::min(area.width() - left - right, area.height() - top - bottom));
  return QRect(area.left() + left + (area.width() - left - right - side) / 2, area.top() + top, side, side);
}

void HeatmapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  paintInto(p, rect());
}

void HeatmapWidget::paintInto(QPainter& p, const QRect& area, bool standalone) const {
  p.save();
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette pal = palette();
  QFont titleFont = font();
  titleFont.setBold(true);
  const int titleHeight = QFontMetrics(titleFont).height();
  p.setFont(titleFont);
  p.setPen(data_ ? data_->textColor(variant_) : palette().color(QPalette::WindowText));
  p.drawText(QRect(area.left(), area.top() + 2, area.width(), titleHeight), Qt::AlignHCenter, title_);
  const QFont small = smallFont(font());
  const QFontMetrics smallMetrics(small);
  p.setFont(small);
  p.setPen(pal.color(QPalette::WindowText));
  if (rules_ == 0) {
    p.drawText(area, Qt::AlignCenter, tr("no evaluation yet"));
    p.restore();
    return;
  }
  int y = area.top() + 2 + titleHeight;
  for (const QString& line : subtitleLines(area.width(), standalone)) {
    p.drawText(QRect(area.left(), y, area.width(), smallMetrics.height()), Qt::AlignHCenter, line);
    y += smallMetrics.height();
  }

  // Cells as rectangles: crisp at any scale, and vector shapes in an SVG.
  const QRect g = gridRectIn(area, standalone);
  const double cell = static_cast<double>(g.width()) / rules_;
  p.setRenderHint(QPainter::Antialiasing, false);
  for (int r = 0; r < rules_; ++r)
    for (int c = 0; c < rules_; ++c) {
      const QRectF box(g.left() + c * cell, g.top() + r * cell, cell + 0.5, cell + 0.5);  // overlap: no seams
      p.fillRect(box, viridis(std::clamp(displayedValue(r, c), 0.0, 1.0)));
    }
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(pal.color(QPalette::Mid));
  p.drawRect(g.adjusted(0, 0, -1, -1));

  // Axes: ticks 1..R (thinned when dense), titles.
  p.setPen(pal.color(QPalette::WindowText));
  p.setFont(small);
  const int every = std::max(1, static_cast<int>(std::ceil((smallMetrics.horizontalAdvance("00") + 4.0) / cell)));
  const int h = smallMetrics.height();
  const int labelWidth = smallMetrics.horizontalAdvance("000");
  for (int i = 0; i < rules_; ++i) {
    // Every `every`-th, and always the last (R): the one before it gives way when too close.
    const bool last = i == rules_ - 1;
    if (!last && (i % every != 0 || rules_ - 1 - i < every)) continue;
    const int centre = static_cast<int>(g.left() + (i + 0.5) * cell);
    p.drawText(QRect(centre - labelWidth, g.bottom() + 2, 2 * labelWidth, h), Qt::AlignHCenter | Qt::AlignTop,
               QString::number(order_[i] + 1));
    const int middle = static_cast<int>(g.top() + (i + 0.5) * cell);
    if (ruleAxis_) p.drawText(QRect(g.left() - 4 - labelWidth, middle - h / 2, labelWidth, h), Qt::AlignRight | Qt::AlignVCenter, QString::number(i + 1));
  }
  p.setFont(font());
  const int lineHeight = QFontMetrics(font()).height();
  p.drawText(QRect(g.left(), g.bottom() + 2 + h, g.width(), lineHeight), Qt::AlignHCenter, tr("Module"));
  if (ruleAxis_) {
    p.save();
    p.translate(g.left() - 6 - labelWidth - lineHeight, g.center().y());
    p.rotate(-90);
    p.drawText(QRect(-g.height() / 2, 0, g.height(), lineHeight), Qt::AlignHCenter, tr("Rule"));
    p.restore();
  }
  if (!colourBar_) {
    p.restore();
    return;
  }

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
    const int yy = static_cast<int>(bar.bottom() - v * bar.height());
    p.drawText(QRect(bar.right() + 3, yy - h / 2, smallMetrics.horizontalAdvance("0.5") + 4, h), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(v, 'g', 2));
  }
  // The bar's label, along it (shortened to "p" where the bar is too short for it).
  const int labelX = bar.right() + 3 + smallMetrics.horizontalAdvance("0.5") + 6;
  QString label = tr("p(module | rule)");
  if (smallMetrics.horizontalAdvance(label) > bar.height()) label = tr("p");
  p.save();
  p.translate(labelX, bar.center().y());
  p.rotate(90);
  p.drawText(QRect(-bar.height() / 2, -h, bar.height(), h), Qt::AlignHCenter | Qt::AlignBottom, label);
  p.restore();
  p.restore();
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
                         .arg(title_)
                         .arg(r + 1)
                         .arg(order_[c] + 1)
                         .arg(displayedValue(r, c), 0, 'f', 4),
                     this);
}

QString HeatmapWidget::toCsv() const {
  return QString::fromStdString(heatmapCsv(variant_, step_, rules_, values_));
}

namespace {
class HeatmapFigure : public QWidget {
public:
  explicit HeatmapFigure(HeatmapPanel* panel) : QWidget(panel), panel_(panel) {
    setAttribute(Qt::WA_DontShowOnScreen);
    hide();
  }
  // Each heatmap at the size of its on-screen grid, with its labels, and no more.
  QSize compactSize() const {
    const auto& maps = panel_->heatmaps();
    if (maps.empty()) return {320, 200};
    const int side = std::max(maps.front()->gridSide(), maps.front()->fontMetrics().height() * 10);
    const QSize one = cellFor(side);
    return {one.width() * static_cast<int>(maps.size()), one.height() + titleHeight()};
  }
  // A figure says what it shows: "p(module | rule) at step N", over the heatmaps.
  int titleHeight() const { return QFontMetrics(titleFont()).height() + 6; }
  QFont titleFont() const {
    QFont f = font();
    f.setBold(true);
    return f;
  }
  QSize cellFor(int side) const {
    const HeatmapWidget* h = panel_->heatmaps().front();
    // Grow the area until its grid reaches `side`.
    QSize area(side, side);
    for (int i = 0; i < 4; ++i) {
      const QRect g = h->gridRectIn(QRect(QPoint(), area), true);
      area += QSize(side - g.width(), side - g.height());
    }
    return area;
  }

protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), palette().base());  // the page's colour (white on the light theme), not the window's grey
    const auto& maps = panel_->heatmaps();
    if (maps.empty()) return;
    std::int64_t step = -1;
    for (const HeatmapWidget* h : maps)
      if (h->rules() > 0) step = h->step();
    p.setFont(titleFont());
    p.setPen(palette().color(QPalette::Text));
    const QString order = maps.front()->hungarianOrder() ? tr(", modules in Hungarian order") : QString();
    p.drawText(QRect(0, 3, width(), titleHeight()), Qt::AlignHCenter | Qt::AlignTop,
               step >= 0 ? tr("p(module | rule) at step %1%2").arg(step).arg(order) : tr("p(module | rule)"));
    const int top = titleHeight(), w = width() / static_cast<int>(maps.size());
    for (std::size_t i = 0; i < maps.size(); ++i) maps[i]->paintInto(p, QRect(static_cast<int>(i) * w, top, w, height() - top), true);
  }

private:
  HeatmapPanel* panel_;
};
}  // namespace

HeatmapPanel::HeatmapPanel(QWidget* parent) : QWidget(parent) {
  figure_ = new HeatmapFigure(this);
  hungarian_ = new QCheckBox(tr("Hungarian order"));
  hungarian_->setToolTip(tr("Reorder the modules by the matching that maximises p(module | rule) on the diagonal: "
                            "a perfectly specialised model shows a diagonal"));
  auto* top = new FlowLayout;  // wraps: never wider than the heatmaps below it
  top->setContentsMargins(6, 2, 6, 0);
  // The title in two parts that wrap apart: the panel's minimum width is not one long line.
  auto* heading = new QLabel(tr("<b>Activation heatmaps</b>:"));
  top->addWidget(heading);
  title_ = new QLabel;
  top->addWidget(title_);
  updateTitle();
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

void HeatmapPanel::updateTitle() {
  std::int64_t step = -1;
  for (const HeatmapWidget* h : heatmaps_)
    if (h->rules() > 0) step = h->step();
  title_->setText(step >= 0 ? tr("p(module | rule) at step %1").arg(step) : tr("p(module | rule)"));
}

void HeatmapPanel::setData(const RunData* data) {
  data_ = data;
  rebuild();
}

void HeatmapPanel::rebuild() {
  for (HeatmapWidget* h : heatmaps_) delete h;
  heatmaps_.clear();
  if (!data_) return;
  for (const Variant& v : data_->variants()) {
    if (!isModular(v.family)) continue;
    auto* h = new HeatmapWidget(data_, v.name, this);
    h->installEventFilter(this);  // the export figure follows the heatmaps' size
    h->setHungarianOrder(hungarian_->isChecked());
    row_->addWidget(h, 1);
    heatmaps_.push_back(h);
  }
  for (std::size_t i = 0; i < heatmaps_.size(); ++i) heatmaps_[i]->setSharedAxes(i == 0, i + 1 == heatmaps_.size());
  empty_->setVisible(heatmaps_.empty());
  refresh();
}

void HeatmapPanel::refresh() {
  if (!data_) return;
  for (HeatmapWidget* h : heatmaps_) {
    const FamilyEvaluation* e = data_->latestEvaluation(h->variant());
    std::int64_t step = -1;
    for (auto it = data_->evaluations().rbegin(); it != data_->evaluations().rend() && e; ++it)
      for (const FamilyEvaluation& f : it->families)
        if (&f == e) step = it->step;
    if (e && e->rules > 0) h->setMatrix(e->rules, e->moduleGivenRule, step);
    else h->clear();
  }
  updateTitle();
}

void HeatmapPanel::showEvaluation(std::size_t index) {
  if (!data_ || index >= data_->evaluations().size()) return;
  const EvaluationSnapshot& e = data_->evaluations()[index];
  for (HeatmapWidget* h : heatmaps_)
    for (const FamilyEvaluation& f : e.families)
      if (f.variant == h->variant() && f.rules > 0) h->setMatrix(f.rules, f.moduleGivenRule, e.step);
  updateTitle();
}

void HeatmapPanel::setHungarianOrder(bool on) {
  hungarian_->blockSignals(true);
  hungarian_->setChecked(on);
  hungarian_->blockSignals(false);
  for (HeatmapWidget* h : heatmaps_) h->setHungarianOrder(on);
}

int HeatmapPanel::idealHeight(int width) const {
  if (heatmaps_.empty()) return minimumSizeHint().height();
  const int each = width / static_cast<int>(heatmaps_.size());
  const HeatmapWidget* h = heatmaps_.front();
  const int side = h->gridRectIn(QRect(0, 0, each, 100000)).width();
  int tall = h->gridRectIn(QRect(0, 0, each, 100000)).top() + side;
  while (h->gridRectIn(QRect(0, 0, each, tall)).width() < side && tall < 100000) tall += 2;
  // Plus what surrounds the heatmaps now (the header row above them, which wraps when narrow).
  return tall + std::max(height() - h->height(), layout()->itemAt(0)->layout()->heightForWidth(width) + layout()->spacing());
}

void HeatmapPanel::sizeFigure() { figure_->resize(static_cast<HeatmapFigure*>(figure_)->compactSize()); }

QWidget* HeatmapPanel::figure() {
  sizeFigure();
  return figure_;
}

bool HeatmapPanel::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::Resize && qobject_cast<HeatmapWidget*>(watched)) sizeFigure();
  return QWidget::eventFilter(watched, event);
}

void HeatmapPanel::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  sizeFigure();
}

QImage HeatmapPanel::renderFigure(double scale) {
  sizeFigure();
  QImage image(figure_->size() * scale, QImage::Format_ARGB32_Premultiplied);
  image.setDevicePixelRatio(scale);
  image.fill(palette().window().color());
  QPainter p(&image);
  p.setRenderHint(QPainter::TextAntialiasing);
  figure_->render(&p, QPoint(), QRegion(), QWidget::DrawChildren);
  return image;
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
