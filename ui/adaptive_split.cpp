#include "ui/adaptive_split.h"

#include <QEvent>
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
  pages_ << page;
  titles_ << title;
  sizes_ << size;
  if (tabbed_) tabs_->addTab(page, title);
  else {
    split_->addWidget(page);
    split_->setSizes(sizes_);
  }
  updateGeometry();
}

void AdaptiveSplit::setSizes(const QList<int>& sizes) {
  sizes_ = sizes;
  if (!tabbed_) split_->setSizes(sizes);
}

QSize AdaptiveSplit::minimumSizeHint() const {
  QSize size;
  for (QWidget* page : pages_) size = size.expandedTo(page->minimumSizeHint().expandedTo(page->minimumSize()));
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
  for (QWidget* page : pages_) need += std::max(page->minimumSizeHint().height(), page->minimumSize().height());
  // With some room to spare: at the bare minimum every page would be squeezed to its limit.
  const bool tab = height() < need * 1.1 + 20;
  if (tab != tabbed_) {
    tabbed_ = tab;
    if (tab) {
      const int current = 0;
      for (int i = 0; i < pages_.size(); ++i) tabs_->addTab(pages_[i], titles_[i]);
      tabs_->setCurrentIndex(current);
      split_->hide();
      tabs_->show();
    } else {
      for (QWidget* page : pages_) {
        split_->addWidget(page);
        page->show();
      }
      split_->setSizes(sizes_);
      tabs_->hide();
      split_->show();
    }
  }
  (tabbed_ ? static_cast<QWidget*>(tabs_) : split_)->setGeometry(rect());
  if (tab != tabbed_) updateGeometry();
}

}  // namespace modlab::ui
