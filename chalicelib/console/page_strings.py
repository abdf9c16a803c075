"""Strings of the console's campaigns, import and connectors pages (each page is its own script file),
keyed as the scripts ask for them and translated on the server like the rest of the console's."""

from __future__ import annotations

from chalicelib.platform.i18n import N_

PAGE_STRINGS = {
    'nav:campaigns': N_('Campaigns'),
    'nav:import': N_('Import'),
    'nav:connectors': N_('Connectors'),
    'cmp:title': N_('Win-back campaigns'),
    'cmp:lead': N_(
        'A campaign calls and writes to the patients of a segment, a few a day, most valuable first, '
        "with the patients' consent, in working hours."
    ),
    'cmp:new': N_('New campaign'),
    'cmp:name': N_('Campaign name'),
    'cmp:segment': N_('Segment'),
    'cmp:months': N_('No visit for, months'),
    'cmp:daily_limit': N_('Patients a day, at most'),
    'cmp:offer': N_('Offer (for the script and messages; empty: a plain invitation back)'),
    'cmp:cost': N_('Cost per contact'),
    'cmp:ladder': N_('Ladder'),
    'cmp:at_stake': N_('%(count)s · unfinished plans: %(value)s'),
    'cmp:create': N_('Create campaign'),
    'cmp:created': N_(
        'The campaign is created. Its first patients are opened in working hours, or now with «Start '
        'today».'
    ),
    'cmp:run': N_('Start today'),
    'cmp:run_queued': N_("Today's patients are being picked; their tasks appear on the desk."),
    'cmp:pause': N_('Pause'),
    'cmp:resume': N_('Resume'),
    'cmp:finish': N_('Finish'),
    'cmp:finish_confirm': N_('Finish the campaign «%(name)s»? A finished campaign cannot be resumed.'),
    'cmp:details': N_('Results'),
    'cmp:none': N_('No campaigns yet: create one from a segment below.'),
    'cmp:status': N_('Status'),
    'cmp:status:active': N_('Active'),
    'cmp:status:paused': N_('Paused'),
    'cmp:status:finished': N_('Finished'),
    'cmp:patients': N_('Patients'),
    'cmp:contacted': N_('Contacted'),
    'cmp:reached': N_('Reached by phone'),
    'cmp:booked': N_('Booked'),
    'cmp:came': N_('Came'),
    'cmp:revenue': N_('Revenue'),
    'cmp:costs': N_('Cost'),
    'cmp:roi': N_('ROI'),
    'cmp:admin': N_('Administrator'),
    'cmp:admin_none': N_('Without a call (a message brought them)'),
    'cmp:by_day': N_('By day: contacts'),
    'cmp:per_admin': N_('By administrator'),
    'cmp:segments': N_('Lost patients'),
    'cmp:open_list': N_('Patient list'),
    'cmp:from_segment': N_('Campaign'),
    'cmp:last_visit': N_('Last visit'),
    'cmp:value': N_('Plan not done'),
    'cmp:phone': N_('Phone'),
    'seg:lapsed': N_('No visit for months'),
    'seg:plan_unfinished': N_('Unfinished treatment plan'),
    'seg:one_visit': N_('Came once'),
    'seg:declined_plan': N_('Declined the plan'),
    'seg:wrong_number': N_('Wrong number'),
    'imp:title': N_('Patient base import'),
    'imp:lead': N_(
        'An export of the MIS as CSV (UTF-8 or Windows-1251) or XLSX. Good rows are imported, bad ones '
        'are listed with the reason; importing the same file again changes nothing.'
    ),
    'imp:drop': N_('Drop the file here or choose it'),
    'imp:choose': N_('Choose a file'),
    'imp:sending': N_('Sending the file…'),
    'imp:running': N_('Importing: %(done)s of %(total)s parts'),
    'imp:rows': N_('Rows read'),
    'imp:imported': N_('Imported'),
    'imp:rejected': N_('Rejected'),
    'imp:row': N_('Row in Excel'),
    'imp:field': N_('Column'),
    'imp:reason': N_('Reason'),
    'imp:download': N_('Download the rejected rows'),
    'imp:fix': N_('Fix them in the file and upload it again: the rows imported already are not doubled.'),
    'imp:history': N_('Imports'),
    'imp:when': N_('Uploaded'),
    'imp:file': N_('File'),
    'imp:open': N_('Show'),
    'imp:nothing': N_('No imports yet.'),
    'imp:status:running': N_('In progress'),
    'imp:status:done': N_('Done'),
    'imp:status:partial': N_('Partly'),
    'imp:status:failed': N_('Failed'),
    'col:patient_id': N_('Patient ID'),
    'col:full_name': N_('Full name'),
    'col:phone': N_('Phone'),
    'col:birth_date': N_('Date of birth'),
    'col:last_visit_date': N_('Last visit'),
    'col:last_visit_kind': N_('Kind of visit'),
    'col:doctor_id': N_('Doctor'),
    'col:consent_recall': N_('Consent to reminders'),
    'col:consent_marketing': N_('Consent to offers'),
    'col:plan_total': N_('Plan total'),
    'col:plan_done': N_('Plan done'),
    'col:row': N_('The whole row'),
    'col:body': N_('File'),
    'col:header': N_('Header row'),
    'con:title': N_('Connectors'),
    'con:lead': N_(
        "Telephony and messengers post to ClinicFlow directly: paste the address into the vendor's "
        'settings and fill in the keys here.'
    ),
    'con:url': N_('Address to paste'),
    'con:copy': N_('Copy'),
    'con:copied': N_('Copied'),
    'con:configured': N_('Connected'),
    'con:not_configured': N_('Not connected'),
    'con:last_notification': N_('Last notification'),
    'con:never': N_('none yet'),
    'con:last_error': N_('Last error'),
    'con:check': N_('Check'),
    'con:save': N_('Save'),
    'con:disconnect': N_('Disconnect'),
    'con:disconnect_confirm': N_(
        'Disconnect %(vendor)s? Its notifications will be refused until it is connected again.'
    ),
    'con:secret_kept': N_('stored; type to replace'),
    'con:ok': N_('Works'),
    'con:fail': N_('Does not work'),
    'check:handshake': N_("The address answers the vendor's check"),
    'check:balance': N_('The API accepts the keys; balance'),
    'check:webhook': N_('The bot posts to this address'),
    'vendor:zadarma': N_('Zadarma'),
    'vendor:mango': N_('Mango Office'),
    'vendor:whatsapp': N_('WhatsApp'),
    'vendor:telegram': N_('Telegram'),
    'vendor:smsru': N_('SMS.ru'),
    'vendor:email': N_('E-mail'),
    'howto:zadarma': N_(
        'In my.zadarma.com: Settings → Integrations and API → API keys: copy «Key» and «Secret» here. '
        'Then Settings → Notifications (PBX): paste the address into «Call notifications in PBX» and '
        'tick NOTIFY_END and NOTIFY_OUT_END.'
    ),
    'howto:mango': N_(
        'In the Mango Office VPBX: Integrations → API connection: copy «Unique VPBX code» to api_key and'
        ' «Signature key» to api_salt; paste the address into «External system address».'
    ),
    'howto:whatsapp': N_(
        'In Meta for Developers: WhatsApp → Configuration → Webhook: paste the address into «Callback '
        'URL», type the same «Verify token» as here, subscribe to «messages». The «App secret» is in App'
        ' settings → Basic.'
    ),
    'howto:telegram': N_(
        'Create a bot with @BotFather and copy its token and username here; think up a secret token '
        '(letters, digits, _ and -). On save, ClinicFlow tells Telegram this address itself.'
    ),
    'howto:smsru': N_(
        'In sms.ru: Settings → Callback: paste the address with ?token= and the callback token from '
        'here.'
    ),
    'revoke_confirm': N_('Revoke the key of %(name)s? They will be signed out at once.'),
    'actor:system': N_('ClinicFlow'),
    'What to fix': N_('What to fix'),
    'field:whatsapp.verify_token': N_('Verify token (think one up and type it in Meta too)'),
    'field:whatsapp.app_secret': N_('App secret'),
    'field:whatsapp.phone_number_id': N_('Phone number ID'),
    'field:telegram.bot_token': N_('Bot token from @BotFather'),
    'field:telegram.secret_token': N_('Secret token (think one up)'),
    'field:telegram.bot_username': N_('Bot username'),
    'field:zadarma.secret': N_('Secret'),
    'field:zadarma.key': N_('Key (for call statistics and click to call)'),
    'field:mango.api_key': N_('Unique VPBX code'),
    'field:mango.api_salt': N_('Signature key'),
    'field:smsru.callback_token': N_('Callback token (16+ letters and digits)'),
    'field:whatsapp.token': N_('Access token (system user, to send from the number)'),
    'field:whatsapp.display_number': N_('Number patients see'),
    'field:smsru.api_id': N_('API key (api_id, to send SMS)'),
    'field:smsru.sender': N_('Sender name (up to 11 Latin letters)'),
    'field:email.sender': N_('Sender address (verified in Amazon SES)'),
    'field:email.reply_to': N_('Reply-to address'),
    'conerr:401': N_('The signature did not match: check the secret'),
    'conerr:403': N_('The token did not match'),
    'conerr:413': N_('The notification was too large'),
    'conerr:422': N_('The notification could not be read'),
    'conerr:429': N_('Too many notifications at once'),
}
