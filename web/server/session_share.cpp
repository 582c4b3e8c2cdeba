#include "web/server/session_share.h"

#include <QNetworkInterface>

namespace modlab::web {

namespace {
// The session's state in the browser view's words (run.json's): nothing trained yet is "created".
std::string stateWord(SessionState s) { return s == SessionState::Idle ? "created" : toString(s); }
}  // namespace

SessionShare::SessionShare(ui::TrainingController* controller, quint16 port, QObject* parent)
    : ui::LiveShare(parent), controller_(controller), port_(port) {
  connect(controller_, &ui::TrainingController::runReset, this, [this] { resetPending_ = true; });
}

SessionShare::~SessionShare() { stop(); }

std::string SessionShare::title() const { return controller_->data().config().name; }

bool SessionShare::start(QString* error) {
  if (server_) return true;
  for (quint16 port = port_ ? port_ : 8750; port < (port_ ? port_ + 1 : 8800); ++port) {
    ServeOptions options;
    options.bind = QHostAddress::Any;
    options.port = port;
    options.requireToken = true;
    auto server = std::make_unique<WebServer>(this, options);
    QString why;
    if (server->listen(&why)) {
      server_ = std::move(server);
      connect(server_.get(), &WebServer::viewersChanged, this, &SessionShare::viewersChanged);
      resetPending_ = true;
      Q_EMIT sharingChanged(true);
      return true;
    }
    if (error) *error = why;
  }
  return false;
}

void SessionShare::stop() {
  if (!server_) return;
  server_->close();
  server_.reset();
  Q_EMIT viewersChanged(0);
  Q_EMIT sharingChanged(false);
}

bool SessionShare::isSharing() const { return static_cast<bool>(server_); }
int SessionShare::viewers() const { return server_ ? server_->viewerCount() : 0; }

QList<QUrl> SessionShare::addresses() const {
  QList<QUrl> out;
  if (!server_) return out;
  for (const QHostAddress& a : QNetworkInterface::allAddresses())
    if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback()) out << server_->address(a.toString());
  out << server_->address("127.0.0.1");  // this machine's own browser
  return out;
}

RunView* SessionShare::run(const std::string& id, bool) {
  if (id != "live") return nullptr;
  sync();
  return &view_;
}

void SessionShare::sync() {
  const ui::RunData& data = controller_->data();
  if (resetPending_) {
    view_.reset(data.config(), data.config().name);
    trainTaken_.clear();
    evaluationsTaken_ = 0;
    changesTaken_ = 0;
    resetPending_ = false;
  }
  for (const Variant& v : data.variants()) {
    const auto& curve = data.trainLoss(v.name);
    int& taken = trainTaken_[v.name];
    for (; taken < curve.size(); ++taken) {
      TrainPoint p;
      p.step = static_cast<std::int64_t>(curve[taken].x());
      p.variant = v.name;
      p.loss = curve[taken].y();
      view_.addTrain(p);
    }
  }
  for (; evaluationsTaken_ < data.evaluations().size(); ++evaluationsTaken_) view_.addEvaluation(data.evaluations()[evaluationsTaken_]);
  for (; changesTaken_ < data.routingChanges().size(); ++changesTaken_) view_.addRoutingChange(data.routingChanges()[changesTaken_]);
  const Snapshot& s = data.status();
  RunStatus status;
  status.state = stateWord(s.state);
  status.step = s.step;
  status.totalSteps = s.totalSteps;
  status.stepsPerSecond = s.stepsPerSecond;
  status.wallSeconds = s.wallSeconds;
  status.error = s.error;
  status.device = s.device;
  status.warnings = s.warnings;
  for (const FamilyStatus& f : s.families)
    status.modelStates[f.variant] = toString(f.state) + (f.message.empty() ? "" : ": " + f.message);
  const RunStatus& old = view_.status();
  if (status.state != old.state || status.step != old.step || status.error != old.error || status.modelStates != old.modelStates)
    view_.setStatus(std::move(status));
}

}  // namespace modlab::web
