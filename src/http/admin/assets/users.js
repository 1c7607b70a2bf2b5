// The users pages' browser module (served at /static/admin/users.js beside admin.js, which sends the forms).
// A change to one user answers with what MMS decided about the meetings (MeetingMigration, Reason): admin.js shows
// the form's done text, this adds that decision below it so the admin sees the outcome without opening the audit log.
// admin.js dispatches mms:done on the form itself (it does not bubble): one listener per form.
function showOutcome(event) {
  const form = event.currentTarget;
  const { status, body } = event.detail ?? {};
  if (status < 200 || status >= 300 || !body || Array.isArray(body) || typeof body.Reason !== 'string') return;
  const region = form.querySelector('[data-result]');
  if (!region) return;
  const line = document.createElement('span');
  line.className = 'outcome';
  line.textContent = `${body.MeetingMigration ?? ''}: ${body.Reason}`;
  region.append(document.createElement('br'), line);
  // A PIN issued with emails to users off (issue 12 §3) is in this one answer: shown here once, to pass on.
  if (typeof body.LeaderPin === 'string') {
    const pin = document.createElement('strong');
    pin.className = 'leader-pin';
    pin.textContent = `LeaderPin: ${body.LeaderPin} (${body.LeaderPinNote ?? ''})`;
    region.append(document.createElement('br'), pin);
  }
}
for (const form of document.querySelectorAll('form[data-outcome]')) form.addEventListener('mms:done', showOutcome);

// The provider move is done once: after a saved move its button goes (the results stay), so it is not sent twice.
document.getElementById('move-save')?.addEventListener('mms:done', (event) => {
  const { status } = event.detail ?? {};
  if (status >= 200 && status < 300) for (const b of event.currentTarget.querySelectorAll('button[type=submit]')) b.hidden = true;
});
