-- One churn record per request, as a client of /predict sends it.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"state":"KS","account_length":128,"area_code":"area_code_415","international_plan":"no","voice_mail_plan":"yes","number_vmail_messages":25,"total_day_minutes":265.1,"total_day_calls":110,"total_day_charge":45.07,"total_eve_minutes":197.4,"total_eve_calls":99,"total_eve_charge":16.78,"total_night_minutes":244.7,"total_night_calls":91,"total_night_charge":11.01,"total_intl_minutes":10,"total_intl_calls":3,"total_intl_charge":2.7,"number_customer_service_calls":1}'
