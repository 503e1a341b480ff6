// Sign-in and the audit trail. Sign-in is a plain form: the token goes in a
// POST body (never a URL, where logs and history would keep it) and comes
// back as an HttpOnly, SameSite=Strict cookie.
#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"

namespace gauntlet::board {

std::string RenderLogin(const std::string& next, const std::string& error) {
  std::string body = "<h1>Sign in</h1>";
  if (!error.empty()) body += "<p class=alert id=login-error>" + Escape(error) + "</p>";
  return body +
         "<p>Paste an API token (<code>gauntlet tokens create</code> by an admin). The board keeps it in a cookie "
         "no script can read, for this browser only.</p>"
         "<form method=post action=\"/login\" id=login><input type=hidden name=next value=\"" + Escape(next) +
         "\"><input type=password name=token id=token autocomplete=off placeholder=\"gnt_…\" size=40> "
         "<button>sign in</button></form>"
         "<form method=post action=\"/logout\"><button id=logout>sign out</button></form>";
}

std::string RenderAudit(const std::vector<v1::AuditEvent>& events, const std::string& actor) {
  std::string body = "<h1>Audit trail</h1><p>Every call that changes the farm, allowed or refused" +
                     (actor.empty() ? std::string() : " by <b>" + Escape(actor) + "</b> (<a href=\"/audit\">all</a>)") +
                     ". <code>gauntlet events</code> reads the same.</p>";
  if (events.empty()) return body + "<p class=empty>Nothing has changed yet.</p>";
  body += "<table class=list id=audit><thead><tr><th>when</th><th>who</th><th>role</th><th>action</th><th>target</th>"
          "<th>outcome</th><th>from</th></tr></thead><tbody>";
  for (const auto& event : events) {
    const bool ok = event.outcome() == "ok";
    body += "<tr><td>" + FormatTime(event.at_ms()) + "</td><td><a href=\"/audit?actor=" + UrlEncode(event.actor()) +
            "\">" + Escape(event.actor()) + "</a></td><td>" + Escape(event.role()) + "</td><td>" +
            Escape(event.action()) + "</td><td>" + Escape(event.target()) + "</td><td class=" +
            (ok ? "pass" : "fail") + ">" + Escape(event.outcome()) + "</td><td>" + Escape(event.peer()) + "</td></tr>";
  }
  return body + "</tbody></table>";
}

}  // namespace gauntlet::board
