// Sharing what the window shows with browsers (File > Share live view): the interface the
// window drives. The browser view implements it (web/server/session_share.h) and the app
// wires it in (app/gui/main.cpp), so that ui/ never depends on the server.
#pragma once

#include <QList>
#include <QObject>
#include <QUrl>

namespace modlab::ui {

class LiveShare : public QObject {
  Q_OBJECT
public:
  using QObject::QObject;
  // Starts serving on every network interface, with a new access token; false with a message.
  virtual bool start(QString* error) = 0;
  virtual void stop() = 0;
  virtual bool isSharing() const = 0;
  // The addresses to open (one per network address of this machine, the LAN ones first), each
  // carrying the access token.
  virtual QList<QUrl> addresses() const = 0;
  virtual int viewers() const = 0;

Q_SIGNALS:
  void viewersChanged(int viewers);
  void sharingChanged(bool sharing);
};

}  // namespace modlab::ui
