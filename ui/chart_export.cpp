#include "ui/chart_export.h"

#include <QFile>
#include <QFileDialog>
#include <QImage>
#include <QLayout>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

namespace modlab::ui {

bool exportPng(QWidget* widget, const QString& path, double scale, QString* error) {
  if (widget->layout()) widget->layout()->activate();
  QImage image(widget->size() * scale, QImage::Format_ARGB32_Premultiplied);
  image.setDevicePixelRatio(scale);
  image.fill(widget->palette().window().color());
  {
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
  }
  if (!image.save(path, "PNG")) {
    if (error) *error = QObject::tr("cannot write %1").arg(path);
    return false;
  }
  return true;
}

bool exportSvg(QWidget* widget, const QString& path, const QString& title, QString* error) {
  QSvgGenerator svg;
  svg.setFileName(path);
  svg.setSize(widget->size());
  svg.setViewBox(QRect(QPoint(), widget->size()));
  svg.setTitle(title);
  svg.setDescription(QObject::tr("Exported from Modularity Lab"));
  {
    QPainter painter;
    if (!painter.begin(&svg)) {
      if (error) *error = QObject::tr("cannot write %1").arg(path);
      return false;
    }
    widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
  }
  if (!QFile::exists(path) || QFile(path).size() == 0) {
    if (error) *error = QObject::tr("cannot write %1").arg(path);
    return false;
  }
  return true;
}

bool exportText(const QString& text, const QString& path, QString* error) {
  QSaveFile file(path);  // atomic: temp file + rename
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text.toUtf8()) < 0 || !file.commit()) {
    if (error) *error = QObject::tr("cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

void addExportActions(QMenu* menu, QWidget* widget, const QString& baseName, std::function<QString()> csv) {
  auto ask = [widget](const QString& name, const QString& filter) {
    return QFileDialog::getSaveFileName(widget->window(), QObject::tr("Export"), name, filter);
  };
  auto report = [widget](bool ok, const QString& error) {
    if (!ok) QMessageBox::warning(widget->window(), QObject::tr("Export failed"), error);
  };
  for (int scale : {1, 2, 4}) {
    menu->addAction(QObject::tr("Export PNG (%1x)...").arg(scale), widget, [=] {
      const QString path = ask(baseName + (scale > 1 ? QString("@%1x").arg(scale) : QString()) + ".png", "PNG (*.png)");
      QString error;
      if (!path.isEmpty()) report(exportPng(widget, path, scale, &error), error);
    });
  }
  menu->addAction(QObject::tr("Export SVG..."), widget, [=] {
    const QString path = ask(baseName + ".svg", "SVG (*.svg)");
    QString error;
    if (!path.isEmpty()) report(exportSvg(widget, path, baseName, &error), error);
  });
  if (csv)
    menu->addAction(QObject::tr("Export data (CSV)..."), widget, [=] {
      const QString path = ask(baseName + ".csv", "CSV (*.csv)");
      QString error;
      if (!path.isEmpty()) report(exportText(csv(), path, &error), error);
    });
}

void installExportMenu(QWidget* widget, const QString& baseName, std::function<QString()> csv) {
  widget->setContextMenuPolicy(Qt::CustomContextMenu);
  QObject::connect(widget, &QWidget::customContextMenuRequested, widget, [=](const QPoint& pos) {
    QMenu menu(widget);
    addExportActions(&menu, widget, baseName, csv);
    menu.exec(widget->mapToGlobal(pos));
  });
}

}  // namespace modlab::ui
