#include "ui/style/adaptive_split.h"

#include <QLayout>

#include <QEvent>
#include <QScrollArea>
#include <QScrollBar>
#include <QStyle>
#include <QSplitter>
#include <QTabBar>
#include <QTabWidget>
#include <algorithm>

namespace modlab::ui {

AdaptiveSplit::AdaptiveSplit(QWidget* parent) : QWidget(parent) {
  split_ = new QSplitter(Qt::Vertical, this);
  split_->setChildrenCollapsible(false);
  tabs_ = new QTabWidget(this);
  tabs_->setDocumentMode(true);
  tabs_->hide();
  // A page's minimum changes (a font change, new content): the choice is made again.
  split_->installEventFilter(this);
  tabs_->installEventFilter(this);
}

bool AdaptiveSplit::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::LayoutRequest) {
    updateGeometry();
    arrange();
  }
  return QWidget::eventFilter(watched, event);
}

void AdaptiveSplit::addPage(QWidget* page, const QString& title, int size) {
  // Inside a scroll area a page's new minimum reaches neither the splitter nor the tabs.
  page->installEventFilter(this);
  if (tabbed_) placePages(false);
  pages_ << page;
  titles_ << title;
  sizes_ << size;
  placePages(tabbed_);
  updateGeometry();
}

void AdaptiveSplit::setScrollsWhenTabbed(bool on) {
  if (on == scrolls_) return;
  if (tabbed_) placePages(false);
  scrolls_ = on;
  placePages(tabbed_);
  updateGeometry();
}

void AdaptiveSplit::placePages(bool tabbed) {
  if (tabbed) {
    const int current = std::max(0, tabs_->currentIndex());
    tabs_->clear();
    for (int i = 0; i < pages_.size(); ++i) {
      QWidget* page = pages_[i];
      if (!scrolls_) {
        tabs_->addTab(page, titles_[i]);
        continue;
      }
      while (holders_.size() <= i) {
        auto* holder = new QScrollArea(this);
        holder->setWidgetResizable(true);
        holder->setFrameShape(QFrame::NoFrame);
        holder->hide();
        holders_ << holder;
      }
      if (holders_[i]->widget() != page) holders_[i]->setWidget(page);
      page->show();
      tabs_->addTab(holders_[i], titles_[i]);
    }
    tabs_->setCurrentIndex(std::min(current, tabs_->count() - 1));
  } else {
    tabs_->clear();
    for (int i = 0; i < pages_.size(); ++i) {
      if (i < holders_.size() && holders_[i]->widget() == pages_[i]) holders_[i]->takeWidget();
      split_->addWidget(pages_[i]);
      pages_[i]->show();
    }
    split_->setSizes(sizes_);
  }
}

void AdaptiveSplit::setSizes(const QList<int>& sizes) {
  sizes_ = sizes;
  if (!tabbed_) split_->setSizes(sizes);
}

namespace {
QSize pageMinimum(const QWidget* page) { return page->minimumSizeHint().expandedTo(page->minimumSize()); }
}  // namespace

QSize AdaptiveSplit::minimumSizeHint() const {
  QSize size;
  for (QWidget* page : pages_) size = size.expandedTo(pageMinimum(page));
  if (scrolls_ && !pages_.empty()) {
    // As wide as the narrowest page needs beside a vertical scroll bar (a wider page scrolls
    // sideways too), as high as a few lines: the rest of a page scrolls.
    int narrowest = size.width();
    for (QWidget* page : pages_) narrowest = std::min(narrowest, pageMinimum(page).width());
    size.setWidth(narrowest + style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, this));
    size.setHeight(std::min(size.height(), 8 * fontMetrics().height()));
  }
  return size + QSize(0, tabs_->tabBar()->sizeHint().height() + 4);
}

QSize AdaptiveSplit::sizeHint() const { return split_->sizeHint(); }

bool AdaptiveSplit::event(QEvent* e) {
  if (e->type() == QEvent::LayoutRequest) arrange();
  return QWidget::event(e);
}

void AdaptiveSplit::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  arrange();
}

void AdaptiveSplit::arrange() {
  int need = split_->handleWidth() * std::max<int>(0, static_cast<int>(pages_.size()) - 1);
  for (QWidget* page : pages_) need += pageMinimum(page).height();
  // With some room to spare: at the bare minimum every page would be squeezed to its limit.
  bool tab = height() < need * 1.1 + 20;
  // Scrolling pages: also a page's minimum width that the splitter could not give.
  if (scrolls_)
    for (QWidget* page : pages_) tab = tab || width() < pageMinimum(page).width();
  if (tab != tabbed_) {
    tabbed_ = tab;
    placePages(tab);
    split_->setVisible(!tab);
    tabs_->setVisible(tab);
  }
  (tabbed_ ? static_cast<QWidget*>(tabs_) : split_)->setGeometry(rect());
  if (tab != tabbed_) updateGeometry();
}

VerticalScrollArea::VerticalScrollArea(QWidget* content, QWidget* parent) : QScrollArea(parent) {
  setWidget(content);
  setWidgetResizable(true);
  setFrameShape(QFrame::NoFrame);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  content->installEventFilter(this);  // its minimum changed (fonts, content): so does ours
}

QSize VerticalScrollArea::minimumSizeHint() const {
  const QSize base = QScrollArea::minimumSizeHint();
  if (!widget()) return base;
  const int w = pageMinimum(widget()).width() + verticalScrollBar()->sizeHint().width() + 2 * frameWidth();
  return {std::max(base.width(), w), base.height()};
}

bool VerticalScrollArea::eventFilter(QObject* watched, QEvent* event) {
  if (watched == widget() && event->type() == QEvent::LayoutRequest) updateGeometry();
  return QScrollArea::eventFilter(watched, event);
}

void AdaptiveSplit::showPage(int index) {
  if (tabbed_ && index >= 0 && index < tabs_->count()) tabs_->setCurrentIndex(index);
}

namespace {
// A layout and every layout nested in it forget their cached sizes.
void invalidateAll(QLayout* layout) {
  if (!layout) return;
  for (int i = 0; i < layout->count(); ++i)
    if (QLayout* inner = layout->itemAt(i)->layout()) invalidateAll(inner);
  layout->invalidate();
}
}  // namespace

void AdaptiveSplit::refit() {
  // A page hidden behind a tab keeps the minimum its layouts cached in the old fonts.
  for (QWidget* page : pages_) {
    invalidateAll(page->layout());
    for (QWidget* child : page->findChildren<QWidget*>()) invalidateAll(child->layout());
  }
  arrange();
}

void AdaptiveSplit::showNextPage() {
  if (tabbed_ && tabs_->count() > 0) tabs_->setCurrentIndex((tabs_->currentIndex() + 1) % tabs_->count());
}

}  // namespace modlab::ui
