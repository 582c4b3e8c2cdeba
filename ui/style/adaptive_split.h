// Pages stacked in a vertical splitter while the height allows each its minimum, and as
// tabs below that (small screens, large presentation scales): a window is never forced
// taller than its screen, and nothing in it is squeezed until its labels give way. With
// setScrollsWhenTabbed(true) a tab page taller than the room it gets scrolls (the window's
// centre on 1280x720 at scale 2.5): the tabbed form's minimum no longer holds a whole page.
#pragma once

#include <QScrollArea>
#include <QWidget>

class QSplitter;
class QTabWidget;

namespace modlab::ui {

class AdaptiveSplit : public QWidget {
  Q_OBJECT
public:
  explicit AdaptiveSplit(QWidget* parent = nullptr);
  void addPage(QWidget* page, const QString& title, int size);
  bool isTabbed() const { return tabbed_; }
  // Brings page `index` (in addPage's order) in front when tabbed; split, every page is shown.
  void showPage(int index);
  // The next page in front (tabbed; wraps round).
  void showNextPage();
  // Split or tabbed anew for the pages' minimum sizes now (after a change of fonts).
  void refit();
  void setSizes(const QList<int>& sizes);
  QTabWidget* tabs() const { return tabs_; }
  QSplitter* splitter() const { return split_; }
  // Tab pages in scroll areas (set before the first page is added or at any time).
  void setScrollsWhenTabbed(bool on);
  bool scrollsWhenTabbed() const { return scrolls_; }
  // The tabbed form's minimum: the window may always shrink to it.
  QSize minimumSizeHint() const override;
  QSize sizeHint() const override;

protected:
  void resizeEvent(QResizeEvent* e) override;
  bool event(QEvent* e) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  void arrange();
  QSplitter* split_;
  QTabWidget* tabs_;
  void placePages(bool tabbed);
  QList<QWidget*> pages_;
  QList<QScrollArea*> holders_;  // one per page while scrolling
  QStringList titles_;
  QList<int> sizes_;
  bool tabbed_ = false;
  bool scrolls_ = false;
};

// A panel that scrolls vertically and is never narrower than its content needs (no
// horizontal scroll bar, nothing cut at the right): its minimum width follows its widget's.
class VerticalScrollArea : public QScrollArea {
  Q_OBJECT
public:
  explicit VerticalScrollArea(QWidget* content, QWidget* parent = nullptr);
  QSize minimumSizeHint() const override;

protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
};

}  // namespace modlab::ui
