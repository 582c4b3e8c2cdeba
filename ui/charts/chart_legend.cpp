#include "ui/charts/chart_legend.h"

#include <QEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

#include "ui/style/appearance.h"

namespace modlab::ui {

namespace {
constexpr int kGap = 10, kPad = 3;
}

ChartLegend::ChartLegend(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
  policy.setHeightForWidth(true);
  setSizePolicy(policy);
}

void ChartLegend::clear() {
  entries_.clear();
  shown_.clear();
  updateGeometry();
  update();
}

int ChartLegend::addEntry(const Entry& entry) {
  entries_.push_back(entry);
  shown_.push_back(true);
  setMinimumHeight(heightForWidth(std::max(width(), 1)));
  updateGeometry();
  update();
  return count() - 1;
}

void ChartLegend::setShown(int index, bool shown) {
  if (index < 0 || index >= count() || shown_[static_cast<std::size_t>(index)] == shown) return;
  shown_[static_cast<std::size_t>(index)] = shown;
  update();
  Q_EMIT toggled(index, shown);
}

int ChartLegend::sampleWidth() const { return entries_.empty() ? 0 : fontMetrics().height() * 3 / 2; }

QString ChartLegend::textOf(int index, bool compact) const {
  const Entry& e = entry(index);
  return compact && !e.compact.isEmpty() ? e.compact : e.text;
}

QString ChartLegend::shownText(int index) const { return textOf(index, compactFor(width())); }

int ChartLegend::textWidth(int index) const { return fontMetrics().horizontalAdvance(shownText(index)); }

QSize ChartLegend::entrySize(int index, bool compact) const {
  return QSize(sampleWidth() + kPad * 2 + fontMetrics().horizontalAdvance(textOf(index, compact)) + kPad, fontMetrics().height() + kPad * 2);
}

int ChartLegend::rowsFor(int width, bool compact) const {
  int rows = count() > 0 ? 1 : 0, rowWidth = 0;
  for (int i = 0; i < count(); ++i) {
    const int w = entrySize(i, compact).width();
    if (rowWidth > 0 && rowWidth + kGap + w > width - 2 * kPad) ++rows, rowWidth = 0;
    rowWidth += (rowWidth > 0 ? kGap : 0) + w;
  }
  return rows;
}

bool ChartLegend::compactFor(int width) const {
  const bool any = std::any_of(entries_.begin(), entries_.end(), [](const Entry& e) { return !e.compact.isEmpty(); });
  return any && rowsFor(width, false) > 2;
}

std::vector<QRect> ChartLegend::layoutFor(int width) const {
  std::vector<QRect> rects;
  int x = kPad, y = kPad;
  const int rowHeight = fontMetrics().height() + kPad * 2;
  const bool compact = compactFor(width);
  // Rows are centred: measure each row first.
  std::vector<std::pair<int, int>> rows;  // first entry, width
  int rowStart = 0, rowWidth = 0;
  for (int i = 0; i < count(); ++i) {
    const QSize s = entrySize(i, compact);
    if (rowWidth > 0 && rowWidth + kGap + s.width() > width - 2 * kPad) {
      rows.push_back({rowStart, rowWidth});
      rowStart = i;
      rowWidth = 0;
    }
    rowWidth += (rowWidth > 0 ? kGap : 0) + s.width();
  }
  if (count() > 0) rows.push_back({rowStart, rowWidth});
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int end = r + 1 < rows.size() ? rows[r + 1].first : count();
    x = std::max(kPad, (width - rows[r].second) / 2);
    for (int i = rows[r].first; i < end; ++i) {
      const QSize s = entrySize(i, compact);
      rects.push_back(QRect(QPoint(x, y), s));
      x += s.width() + kGap;
    }
    y += rowHeight;
  }
  return rects;
}

QRect ChartLegend::entryRect(int index) const {
  const std::vector<QRect> rects = layoutFor(width());
  return index >= 0 && index < static_cast<int>(rects.size()) ? rects[static_cast<std::size_t>(index)] : QRect();
}

QRect ChartLegend::textRect(int index) const {
  const QRect r = entryRect(index);
  return QRect(r.left() + sampleWidth() + kPad * 2, r.top() + kPad, r.width() - sampleWidth() - kPad * 3, fontMetrics().height());
}

int ChartLegend::heightForWidth(int width) const {
  const std::vector<QRect> rects = layoutFor(width);
  return rects.empty() ? 0 : rects.back().bottom() + 1 + kPad;
}

QSize ChartLegend::sizeHint() const {
  int w = 2 * kPad;
  for (int i = 0; i < count(); ++i) w += entrySize(i, false).width() + (i > 0 ? kGap : 0);
  return QSize(w, heightForWidth(w));
}

QSize ChartLegend::minimumSizeHint() const {
  int w = 0;
  for (int i = 0; i < count(); ++i) w = std::max(w, entrySize(i, true).width());
  return QSize(w + 2 * kPad, fontMetrics().height() + 4 * kPad);
}

void ChartLegend::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette pal = palette();
  const std::vector<QRect> rects = layoutFor(width());
  for (int i = 0; i < count() && i < static_cast<int>(rects.size()); ++i) {
    const Entry& e = entry(i);
    const QRect r = rects[static_cast<std::size_t>(i)];
    const bool on = isShown(i);
    QColor color = e.color;
    if (!on) color.setAlphaF(0.3);
    const QRect sample(r.left() + kPad, r.top() + kPad, sampleWidth(), fontMetrics().height());
    const int midY = sample.center().y();
    switch (e.marker) {
      case Marker::Square: {
        const int side = std::max(6, fontMetrics().height() * 2 / 3);
        p.fillRect(QRect(sample.center().x() - side / 2, midY - side / 2, side, side), color);
        break;
      }
      case Marker::Band: {
        QColor fill = color;
        fill.setAlpha(on ? 70 : 25);
        p.fillRect(QRect(sample.left(), midY - sample.height() / 3, sample.width(), sample.height() * 2 / 3), fill);
        p.setPen(seriesPen(color, 2));
        p.drawLine(sample.left(), midY, sample.right(), midY);
        break;
      }
      case Marker::Line:
      case Marker::LineWithDots: {
        p.setPen(seriesPen(color, 2, e.style));
        p.drawLine(sample.left(), midY, sample.right(), midY);
        if (e.marker == Marker::LineWithDots) {
          p.setBrush(color);
          const qreal radius = scaled(2.5);
          for (int x : {sample.left() + 3, sample.right() - 3}) p.drawEllipse(QPointF(x, midY), radius, radius);
          p.setBrush(Qt::NoBrush);
        }
        break;
      }
    }
    QColor text = pal.color(QPalette::WindowText);
    if (!on) text.setAlphaF(0.45);
    p.setPen(text);
    QFont f = font();
    f.setStrikeOut(!on);
    p.setFont(f);
    p.drawText(QRect(sample.right() + kPad + 1, r.top() + kPad, textWidth(i) + kPad, fontMetrics().height()),
               Qt::AlignLeft | Qt::AlignVCenter, shownText(i));
  }
}

void ChartLegend::mousePressEvent(QMouseEvent* e) {
  if (e->button() != Qt::LeftButton) return QWidget::mousePressEvent(e);
  for (int i = 0; i < count(); ++i)
    if (entry(i).toggles && entryRect(i).contains(e->position().toPoint())) {
      setShown(i, !isShown(i));
      e->accept();
      return;
    }
  QWidget::mousePressEvent(e);
}

void ChartLegend::mouseMoveEvent(QMouseEvent* e) {
  for (int i = 0; i < count(); ++i)
    if (entryRect(i).contains(e->position().toPoint())) {
      setCursor(entry(i).toggles ? Qt::PointingHandCursor : Qt::ArrowCursor);
      const QString tip = entry(i).toolTip.isEmpty() && entry(i).toggles
                              ? (isShown(i) ? tr("Click to hide %1").arg(entry(i).text) : tr("Click to show %1").arg(entry(i).text))
                              : entry(i).toolTip;
      if (!tip.isEmpty()) QToolTip::showText(e->globalPosition().toPoint(), tip, this);
      return;
    }
  unsetCursor();
  QToolTip::hideText();
}

void ChartLegend::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  // Layouts inside splitters and tabs do not ask for the height at a width: say it as a minimum.
  const int needed = heightForWidth(width());
  if (minimumHeight() != needed) setMinimumHeight(needed);
}

void ChartLegend::changeEvent(QEvent* e) {
  if (e->type() == QEvent::FontChange) updateGeometry();
  QWidget::changeEvent(e);
}

}  // namespace modlab::ui
