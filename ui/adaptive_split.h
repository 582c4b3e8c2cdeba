// Pages stacked in a vertical splitter while the height allows each its minimum, and as
// tabs below that (small screens, large presentation scales): a window is never forced
// taller than its screen, and nothing in it is squeezed until its labels give way.
#pragma once

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
  void setSizes(const QList<int>& sizes);
  QTabWidget* tabs() const { return tabs_; }
  QSplitter* splitter() const { return split_; }
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
  QList<QWidget*> pages_;
  QStringList titles_;
  QList<int> sizes_;
  bool tabbed_ = false;
};

}  // namespace modlab::ui
