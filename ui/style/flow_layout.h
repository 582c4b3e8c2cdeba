// A layout that places its items left to right and wraps them onto further rows when
// the width runs out (Qt's flow layout example): control rows that never force a window
// wider than the screen, at any presentation scale.
#pragma once

#include <QLayout>
#include <QList>

namespace modlab::ui {

class FlowLayout : public QLayout {
public:
  explicit FlowLayout(QWidget* parent = nullptr, int spacing = 6);
  ~FlowLayout() override;
  void addItem(QLayoutItem* item) override;
  int count() const override { return static_cast<int>(items_.size()); }
  QLayoutItem* itemAt(int index) const override { return items_.value(index); }
  QLayoutItem* takeAt(int index) override;
  Qt::Orientations expandingDirections() const override { return {}; }
  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override { return arrange(QRect(0, 0, width, 0), false); }
  QSize minimumSize() const override;
  QSize sizeHint() const override;
  void setGeometry(const QRect& rect) override;

private:
  int arrange(const QRect& rect, bool apply) const;
  QList<QLayoutItem*> items_;
  int gap_;
};

}  // namespace modlab::ui
