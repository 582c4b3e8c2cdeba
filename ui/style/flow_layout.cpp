#include "ui/style/flow_layout.h"

#include <QWidget>
#include <algorithm>

namespace modlab::ui {

FlowLayout::FlowLayout(QWidget* parent, int spacing) : QLayout(parent), gap_(spacing) {}

FlowLayout::~FlowLayout() {
  while (QLayoutItem* item = takeAt(0)) delete item;
}

void FlowLayout::addItem(QLayoutItem* item) { items_.append(item); }

QLayoutItem* FlowLayout::takeAt(int index) {
  return index >= 0 && index < items_.size() ? items_.takeAt(index) : nullptr;
}

QSize FlowLayout::minimumSize() const {
  QSize size;
  for (const QLayoutItem* item : items_)
    if (!item->isEmpty()) size = size.expandedTo(item->minimumSize());
  const QMargins m = contentsMargins();
  return size + QSize(m.left() + m.right(), m.top() + m.bottom());
}

QSize FlowLayout::sizeHint() const {
  int width = 0, height = 0;
  for (const QLayoutItem* item : items_) {
    if (item->isEmpty()) continue;
    width += item->sizeHint().width() + gap_;
    height = std::max(height, item->sizeHint().height());
  }
  const QMargins m = contentsMargins();
  return QSize(width + m.left() + m.right(), height + m.top() + m.bottom());
}

void FlowLayout::setGeometry(const QRect& rect) {
  QLayout::setGeometry(rect);
  arrange(rect, true);
}

int FlowLayout::arrange(const QRect& rect, bool apply) const {
  const QMargins m = contentsMargins();
  const QRect area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom());
  int x = area.x(), y = area.y(), rowHeight = 0;
  // Items of one row share its height and are centred vertically in it.
  QList<QPair<QLayoutItem*, QPoint>> row;
  auto flush = [&] {
    if (apply)
      for (const auto& [item, at] : row) {
        const QSize s = item->sizeHint();
        item->setGeometry(QRect(QPoint(at.x(), at.y() + (rowHeight - s.height()) / 2), s));
      }
    row.clear();
  };
  for (QLayoutItem* item : items_) {
    if (item->isEmpty()) continue;
    const QSize s = item->sizeHint();
    if (x > area.x() && x + s.width() > area.right() + 1) {
      flush();
      x = area.x();
      y += rowHeight + gap_ / 2;
      rowHeight = 0;
    }
    row.append({item, QPoint(x, y)});
    x += s.width() + gap_;
    rowHeight = std::max(rowHeight, s.height());
  }
  flush();
  return y + rowHeight - rect.y() + m.bottom();
}

}  // namespace modlab::ui
