"""Hand-written questions with gold SQL for the bundled databases: (hardness, question, SQL).

Hardness is Spider's bucket as computed from the SQL (tests/test_bundled_data.py checks it).
The first pair of each hardness level in each train database goes to the few-shot seed pool.
"""

QUESTIONS: dict[str, list[tuple[str, str, str]]] = {
    "library": [
        ("easy", "How many books does the library have?", "SELECT count(*) FROM book"),
        (
            "medium",
            "List the titles and page counts of books in the Poetry genre.",
            "SELECT title, pages FROM book WHERE genre = 'Poetry'",
        ),
        (
            "easy",
            "What are the names of all authors from Japan?",
            "SELECT name FROM author WHERE country = 'Japan'",
        ),
        ("easy", "How many members live in Oslo?", "SELECT count(*) FROM member WHERE city = 'Oslo'"),
        ("easy", "What is the largest number of pages of any book?", "SELECT max(pages) FROM book"),
        ("easy", "List the distinct genres of books.", "SELECT DISTINCT genre FROM book"),
        (
            "easy",
            "Which members joined after 2020? Give their names.",
            "SELECT name FROM member WHERE join_year > 2020",
        ),
        (
            "medium",
            "Show the title and published year of books ordered from newest to oldest.",
            "SELECT title, published_year FROM book ORDER BY published_year DESC",
        ),
        (
            "medium",
            "How many books are there in each genre?",
            "SELECT genre, count(*) FROM book GROUP BY genre",
        ),
        (
            "medium",
            "What is the average number of pages for each genre?",
            "SELECT genre, avg(pages) FROM book GROUP BY genre",
        ),
        (
            "medium",
            "What is the title of the longest book?",
            "SELECT title FROM book ORDER BY pages DESC LIMIT 1",
        ),
        (
            "medium",
            "What are the minimum and maximum birth years of authors from Germany?",
            "SELECT min(birth_year), max(birth_year) FROM author WHERE country = 'Germany'",
        ),
        (
            "medium",
            "List the titles of books written by authors from Canada.",
            "SELECT T1.title FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.country = 'Canada'",
        ),
        (
            "medium",
            "How many loans has each member made? Show member names and counts.",
            "SELECT T2.name, count(*) FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id GROUP BY T1.member_id",
        ),
        (
            "easy",
            "How many loans have not been returned yet?",
            "SELECT count(*) FROM loan WHERE returned = 0",
        ),
        (
            "easy",
            "What is the total late fee collected?",
            "SELECT sum(late_fee) FROM loan WHERE late_fee > 0",
        ),
        (
            "easy",
            "Which countries have more than 4 authors?",
            "SELECT country FROM author GROUP BY country HAVING count(*) > 4",
        ),
        (
            "easy",
            "List the names of authors born between 1950 and 1960.",
            "SELECT name FROM author WHERE birth_year BETWEEN 1950 AND 1960",
        ),
        (
            "hard",
            "Which genre has the most books?",
            "SELECT genre FROM book GROUP BY genre ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the titles of books that have never been borrowed.",
            "SELECT title FROM book WHERE book_id NOT IN (SELECT book_id FROM loan)",
        ),
        (
            "hard",
            "Which books have more pages than the average book? Give titles.",
            "SELECT title FROM book WHERE pages > (SELECT avg(pages) FROM book)",
        ),
        (
            "hard",
            "Which cities have members who joined before 2013 and also members who joined after 2021?",
            "SELECT city FROM member WHERE join_year < 2013 INTERSECT SELECT city FROM member WHERE join_year > 2021",
        ),
        (
            "hard",
            "List the titles of books borrowed by members living in Lisbon.",
            "SELECT DISTINCT T1.title FROM book AS T1 JOIN loan AS T2 ON T1.book_id = T2.book_id JOIN member AS T3 ON T2.member_id = T3.member_id WHERE T3.city = 'Lisbon'",
        ),
        (
            "hard",
            "Which genres are not written by any author from Peru?",
            "SELECT genre FROM book EXCEPT SELECT T1.genre FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.country = 'Peru'",
        ),
        (
            "extra",
            "What is the name of the author whose books have been borrowed the most times?",
            "SELECT T3.name FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id JOIN author AS T3 ON T2.author_id = T3.author_id GROUP BY T3.author_id ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each genre with at least 20 books, what is the average page count? Order by that average.",
            "SELECT genre, avg(pages) FROM book GROUP BY genre HAVING count(*) >= 20 ORDER BY avg(pages)",
        ),
        (
            "extra",
            "Which members have borrowed books in both the Mystery and the Science genre? Give names.",
            "SELECT T3.name FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id JOIN member AS T3 ON T1.member_id = T3.member_id WHERE T2.genre = 'Mystery' INTERSECT SELECT T3.name FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id JOIN member AS T3 ON T1.member_id = T3.member_id WHERE T2.genre = 'Science'",
        ),
        (
            "extra",
            "List the top 3 members by total late fees, with their totals.",
            "SELECT T2.name, sum(T1.late_fee) FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id GROUP BY T1.member_id ORDER BY sum(T1.late_fee) DESC LIMIT 3",
        ),
        (
            "medium",
            "How many books were published after 2000 by authors born before 1960?",
            "SELECT count(*) FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T1.published_year > 2000 AND T2.birth_year < 1960",
        ),
        (
            "medium",
            "Which author countries have an average book length above 500 pages?",
            "SELECT T2.country FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id GROUP BY T2.country HAVING avg(T1.pages) > 500",
        ),
    ],
    "clinic": [
        ("easy", "How many doctors work at the clinic?", "SELECT count(*) FROM doctor"),
        (
            "medium",
            "List the names and specialties of doctors with more than 30 years of experience.",
            "SELECT name, specialty FROM doctor WHERE years_experience > 30",
        ),
        ("easy", "How many female patients are there?", "SELECT count(*) FROM patient WHERE gender = 'F'"),
        ("easy", "What is the average cost of an appointment?", "SELECT avg(cost) FROM appointment"),
        (
            "easy",
            "List the names of patients living in Toronto.",
            "SELECT name FROM patient WHERE city = 'Toronto'",
        ),
        (
            "easy",
            "What are the distinct drugs that have been prescribed?",
            "SELECT DISTINCT drug FROM prescription",
        ),
        (
            "easy",
            "How many appointments were for vaccination?",
            "SELECT count(*) FROM appointment WHERE reason = 'vaccination'",
        ),
        (
            "medium",
            "How many doctors are there in each specialty?",
            "SELECT specialty, count(*) FROM doctor GROUP BY specialty",
        ),
        (
            "medium",
            "Which doctor has the most years of experience? Give the name.",
            "SELECT name FROM doctor ORDER BY years_experience DESC LIMIT 1",
        ),
        (
            "medium",
            "What is the total cost of appointments for each reason?",
            "SELECT reason, sum(cost) FROM appointment GROUP BY reason",
        ),
        (
            "medium",
            "List patient names and birth years, youngest first.",
            "SELECT name, birth_year FROM patient ORDER BY birth_year DESC",
        ),
        (
            "medium",
            "What are the lowest and highest appointment costs?",
            "SELECT min(cost), max(cost) FROM appointment",
        ),
        (
            "medium",
            "How many appointments has each doctor had? Show doctor names.",
            "SELECT T2.name, count(*) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id GROUP BY T1.doctor_id",
        ),
        (
            "medium",
            "List the dates of appointments handled by cardiologists.",
            "SELECT T1.visit_date FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.specialty = 'Cardiology'",
        ),
        (
            "medium",
            "Which drugs were prescribed for longer than 25 days at a dosage of 500 mg?",
            "SELECT DISTINCT drug FROM prescription WHERE days > 25 AND dosage_mg = 500",
        ),
        (
            "easy",
            "Which cities have more than 35 patients?",
            "SELECT city FROM patient GROUP BY city HAVING count(*) > 35",
        ),
        (
            "medium",
            "How many patients were born in or after 2000 and live in Nairobi?",
            "SELECT count(*) FROM patient WHERE birth_year >= 2000 AND city = 'Nairobi'",
        ),
        (
            "hard",
            "What is the most common reason for an appointment?",
            "SELECT reason FROM appointment GROUP BY reason ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of patients who have never had an appointment.",
            "SELECT name FROM patient WHERE patient_id NOT IN (SELECT patient_id FROM appointment)",
        ),
        (
            "hard",
            "Which appointments cost more than the average appointment? Give their ids.",
            "SELECT appointment_id FROM appointment WHERE cost > (SELECT avg(cost) FROM appointment)",
        ),
        (
            "extra",
            "Which cities have both male patients born before 1950 and female patients born after 2015?",
            "SELECT city FROM patient WHERE gender = 'M' AND birth_year < 1950 INTERSECT SELECT city FROM patient WHERE gender = 'F' AND birth_year > 2015",
        ),
        (
            "hard",
            "List the names of patients who saw a neurologist.",
            "SELECT DISTINCT T3.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T2.specialty = 'Neurology'",
        ),
        (
            "hard",
            "Which specialties have no doctor with fewer than 5 years of experience?",
            "SELECT specialty FROM doctor EXCEPT SELECT specialty FROM doctor WHERE years_experience < 5",
        ),
        (
            "extra",
            "Which doctor has earned the most from appointments in total? Give the name and the total.",
            "SELECT T2.name, sum(T1.cost) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id GROUP BY T1.doctor_id ORDER BY sum(T1.cost) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which drug is prescribed most often in appointments for fever?",
            "SELECT T1.drug FROM prescription AS T1 JOIN appointment AS T2 ON T1.appointment_id = T2.appointment_id WHERE T2.reason = 'fever' GROUP BY T1.drug ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each specialty with more than 4 doctors, what is the average experience, highest first?",
            "SELECT specialty, avg(years_experience) FROM doctor GROUP BY specialty HAVING count(*) > 4 ORDER BY avg(years_experience) DESC",
        ),
        (
            "hard",
            "How many appointments in 2023 were with doctors who have more than 20 years of experience?",
            "SELECT count(*) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T1.visit_date LIKE '2023%' AND T2.years_experience > 20",
        ),
        (
            "extra",
            "List the names of the 5 patients who spent the most on appointments.",
            "SELECT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id GROUP BY T1.patient_id ORDER BY sum(T1.cost) DESC LIMIT 5",
        ),
        (
            "extra",
            "Which patients were prescribed both Ibuprofen and Omeprazole? Give names.",
            "SELECT T3.name FROM prescription AS T1 JOIN appointment AS T2 ON T1.appointment_id = T2.appointment_id JOIN patient AS T3 ON T2.patient_id = T3.patient_id WHERE T1.drug = 'Ibuprofen' INTERSECT SELECT T3.name FROM prescription AS T1 JOIN appointment AS T2 ON T1.appointment_id = T2.appointment_id JOIN patient AS T3 ON T2.patient_id = T3.patient_id WHERE T1.drug = 'Omeprazole'",
        ),
        (
            "extra",
            "What is the average prescription length for each drug prescribed by pediatricians?",
            "SELECT T1.drug, avg(T1.days) FROM prescription AS T1 JOIN appointment AS T2 ON T1.appointment_id = T2.appointment_id JOIN doctor AS T3 ON T2.doctor_id = T3.doctor_id WHERE T3.specialty = 'Pediatrics' GROUP BY T1.drug",
        ),
    ],
    "airline": [
        ("easy", "How many flights are scheduled?", "SELECT count(*) FROM flight"),
        (
            "medium",
            "List the flight numbers and distances of flights leaving from Lisbon's airport LIS.",
            "SELECT flight_number, distance_km FROM flight WHERE origin = 'LIS'",
        ),
        (
            "easy",
            "What are the names of airports in Japan?",
            "SELECT name FROM airport WHERE country = 'Japan'",
        ),
        (
            "easy",
            "How many passengers are frequent flyers?",
            "SELECT count(*) FROM passenger WHERE frequent_flyer = 1",
        ),
        ("easy", "What is the longest flight distance?", "SELECT max(distance_km) FROM flight"),
        ("easy", "What aircraft models does the airline operate?", "SELECT DISTINCT model FROM aircraft"),
        (
            "easy",
            "List the names of passengers from Kenya.",
            "SELECT name FROM passenger WHERE nationality = 'Kenya'",
        ),
        (
            "medium",
            "How many bookings are there in each seat class?",
            "SELECT seat_class, count(*) FROM booking GROUP BY seat_class",
        ),
        (
            "medium",
            "What is the average fare for each seat class?",
            "SELECT seat_class, avg(fare) FROM booking GROUP BY seat_class",
        ),
        (
            "medium",
            "Which flight has the highest base price? Give its flight number.",
            "SELECT flight_number FROM flight ORDER BY base_price DESC LIMIT 1",
        ),
        (
            "medium",
            "List aircraft ids and models built after 2015, newest first.",
            "SELECT aircraft_id, model FROM aircraft WHERE year_built > 2015 ORDER BY year_built DESC",
        ),
        (
            "medium",
            "What are the minimum and maximum fares paid in business class?",
            "SELECT min(fare), max(fare) FROM booking WHERE seat_class = 'business'",
        ),
        (
            "medium",
            "How many flights depart from each airport? Show airport names.",
            "SELECT T2.name, count(*) FROM flight AS T1 JOIN airport AS T2 ON T1.origin = T2.code GROUP BY T1.origin",
        ),
        (
            "medium",
            "List the flight numbers of flights flown with a B787.",
            "SELECT T1.flight_number FROM flight AS T1 JOIN aircraft AS T2 ON T1.aircraft_id = T2.aircraft_id WHERE T2.model = 'B787'",
        ),
        (
            "easy",
            "Which nationalities have more than 30 passengers?",
            "SELECT nationality FROM passenger GROUP BY nationality HAVING count(*) > 30",
        ),
        (
            "medium",
            "How many flights are longer than 8000 km and cost less than 500?",
            "SELECT count(*) FROM flight WHERE distance_km > 8000 AND base_price < 500",
        ),
        (
            "medium",
            "What is the total seat capacity of the fleet for each model?",
            "SELECT model, sum(seats) FROM aircraft GROUP BY model",
        ),
        (
            "hard",
            "Which destination airport code receives the most flights?",
            "SELECT destination FROM flight GROUP BY destination ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of passengers who have no bookings.",
            "SELECT name FROM passenger WHERE passenger_id NOT IN (SELECT passenger_id FROM booking)",
        ),
        (
            "hard",
            "Which flights are longer than the average flight? Give flight numbers.",
            "SELECT flight_number FROM flight WHERE distance_km > (SELECT avg(distance_km) FROM flight)",
        ),
        (
            "extra",
            "Which airport codes are used both as origin of flights in January and as destination of flights in December?",
            "SELECT origin FROM flight WHERE departure_date LIKE '2023-01%' INTERSECT SELECT destination FROM flight WHERE departure_date LIKE '2023-12%'",
        ),
        (
            "hard",
            "List the names of passengers who booked business class on a flight from Madrid (MAD).",
            "SELECT DISTINCT T3.name FROM booking AS T1 JOIN flight AS T2 ON T1.flight_id = T2.flight_id JOIN passenger AS T3 ON T1.passenger_id = T3.passenger_id WHERE T2.origin = 'MAD' AND T1.seat_class = 'business'",
        ),
        (
            "hard",
            "Which aircraft have never flown a flight longer than 10000 km? Give their ids.",
            "SELECT aircraft_id FROM aircraft EXCEPT SELECT aircraft_id FROM flight WHERE distance_km > 10000",
        ),
        (
            "extra",
            "Which passenger spent the most on fares in total? Give the name and the total.",
            "SELECT T2.name, sum(T1.fare) FROM booking AS T1 JOIN passenger AS T2 ON T1.passenger_id = T2.passenger_id GROUP BY T1.passenger_id ORDER BY sum(T1.fare) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which origin city has the most bookings?",
            "SELECT T3.city FROM booking AS T1 JOIN flight AS T2 ON T1.flight_id = T2.flight_id JOIN airport AS T3 ON T2.origin = T3.code GROUP BY T3.city ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each seat class with more than 50 bookings, what is the average fare, highest first?",
            "SELECT seat_class, avg(fare) FROM booking GROUP BY seat_class HAVING count(*) > 50 ORDER BY avg(fare) DESC",
        ),
        (
            "extra",
            "Which passengers flew both from OSL and from DUB? Give names.",
            "SELECT T3.name FROM booking AS T1 JOIN flight AS T2 ON T1.flight_id = T2.flight_id JOIN passenger AS T3 ON T1.passenger_id = T3.passenger_id WHERE T2.origin = 'OSL' INTERSECT SELECT T3.name FROM booking AS T1 JOIN flight AS T2 ON T1.flight_id = T2.flight_id JOIN passenger AS T3 ON T1.passenger_id = T3.passenger_id WHERE T2.origin = 'DUB'",
        ),
        (
            "extra",
            "List the 3 flight numbers with the most bookings.",
            "SELECT T2.flight_number FROM booking AS T1 JOIN flight AS T2 ON T1.flight_id = T2.flight_id GROUP BY T1.flight_id ORDER BY count(*) DESC LIMIT 3",
        ),
        (
            "medium",
            "What is the average distance of flights operated by each aircraft model, for models with at least 30 flights?",
            "SELECT T2.model, avg(T1.distance_km) FROM flight AS T1 JOIN aircraft AS T2 ON T1.aircraft_id = T2.aircraft_id GROUP BY T2.model HAVING count(*) >= 30",
        ),
        (
            "hard",
            "How many bookings by frequent flyers are in premium or business class?",
            "SELECT count(*) FROM booking AS T1 JOIN passenger AS T2 ON T1.passenger_id = T2.passenger_id WHERE T2.frequent_flyer = 1 AND (T1.seat_class = 'premium' OR T1.seat_class = 'business')",
        ),
    ],
    "ecommerce": [
        ("easy", "How many customers are registered?", "SELECT count(*) FROM customer"),
        (
            "medium",
            "List the names and prices of products in the Kitchen category.",
            "SELECT name, price FROM product WHERE category = 'Kitchen'",
        ),
        ("easy", "How many orders were cancelled?", "SELECT count(*) FROM orders WHERE status = 'cancelled'"),
        ("easy", "What is the average product price?", "SELECT avg(price) FROM product"),
        ("easy", "List the emails of customers in Seoul.", "SELECT email FROM customer WHERE city = 'Seoul'"),
        ("easy", "What product categories are sold?", "SELECT DISTINCT category FROM product"),
        (
            "easy",
            "Which products have fewer than 20 units in stock? Give their names.",
            "SELECT name FROM product WHERE stock < 20",
        ),
        (
            "medium",
            "How many products are there in each category?",
            "SELECT category, count(*) FROM product GROUP BY category",
        ),
        (
            "medium",
            "What is the most expensive product? Give its name and price.",
            "SELECT name, price FROM product ORDER BY price DESC LIMIT 1",
        ),
        (
            "medium",
            "How many orders are there for each status?",
            "SELECT status, count(*) FROM orders GROUP BY status",
        ),
        (
            "medium",
            "List customer names and signup years, earliest signup first.",
            "SELECT name, signup_year FROM customer ORDER BY signup_year",
        ),
        (
            "medium",
            "What are the cheapest and the most expensive prices in Electronics?",
            "SELECT min(price), max(price) FROM product WHERE category = 'Electronics'",
        ),
        (
            "medium",
            "How many orders has each customer placed? Show names.",
            "SELECT T2.name, count(*) FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id GROUP BY T1.customer_id",
        ),
        (
            "medium",
            "List the order dates of orders placed by customers from Dublin.",
            "SELECT T1.order_date FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id WHERE T2.city = 'Dublin'",
        ),
        (
            "medium",
            "What is the average rating of each product? Show product ids.",
            "SELECT product_id, avg(rating) FROM review GROUP BY product_id",
        ),
        (
            "easy",
            "Which cities have more than 15 customers?",
            "SELECT city FROM customer GROUP BY city HAVING count(*) > 15",
        ),
        (
            "medium",
            "How many products cost less than 50 and have more than 100 units in stock?",
            "SELECT count(*) FROM product WHERE price < 50 AND stock > 100",
        ),
        (
            "hard",
            "Which category has the most products?",
            "SELECT category FROM product GROUP BY category ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of customers who have never placed an order.",
            "SELECT name FROM customer WHERE customer_id NOT IN (SELECT customer_id FROM orders)",
        ),
        (
            "hard",
            "Which products cost more than the average product? Give names.",
            "SELECT name FROM product WHERE price > (SELECT avg(price) FROM product)",
        ),
        (
            "hard",
            "Which cities have customers who signed up in 2015 and customers who signed up in 2023?",
            "SELECT city FROM customer WHERE signup_year = 2015 INTERSECT SELECT city FROM customer WHERE signup_year = 2023",
        ),
        (
            "extra",
            "List the names of products ordered by customers from Lima.",
            "SELECT DISTINCT T3.name FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN product AS T3 ON T1.product_id = T3.product_id JOIN customer AS T4 ON T2.customer_id = T4.customer_id WHERE T4.city = 'Lima'",
        ),
        (
            "hard",
            "Which categories have no product priced above 850?",
            "SELECT category FROM product EXCEPT SELECT category FROM product WHERE price > 850",
        ),
        (
            "extra",
            "Which product has been ordered in the largest total quantity? Give its name.",
            "SELECT T2.name FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id GROUP BY T1.product_id ORDER BY sum(T1.quantity) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which customer has written the most reviews? Give the name.",
            "SELECT T2.name FROM review AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id GROUP BY T1.customer_id ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each category with more than 10 products, what is the average price, cheapest first?",
            "SELECT category, avg(price) FROM product GROUP BY category HAVING count(*) > 10 ORDER BY avg(price)",
        ),
        (
            "extra",
            "Which customers ordered both a product in Outdoor and a product in Fashion? Give names.",
            "SELECT T4.name FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN product AS T3 ON T1.product_id = T3.product_id JOIN customer AS T4 ON T2.customer_id = T4.customer_id WHERE T3.category = 'Outdoor' INTERSECT SELECT T4.name FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN product AS T3 ON T1.product_id = T3.product_id JOIN customer AS T4 ON T2.customer_id = T4.customer_id WHERE T3.category = 'Fashion'",
        ),
        (
            "extra",
            "List the names of the 5 products with the highest average rating.",
            "SELECT T2.name FROM review AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id GROUP BY T1.product_id ORDER BY avg(T1.rating) DESC LIMIT 5",
        ),
        (
            "extra",
            "How many items were shipped in delivered orders, by category?",
            "SELECT T3.category, sum(T1.quantity) FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN product AS T3 ON T1.product_id = T3.product_id WHERE T2.status = 'delivered' GROUP BY T3.category",
        ),
        (
            "medium",
            "Which products have an average rating below 3.5 with at least 5 reviews? Give names.",
            "SELECT T2.name FROM review AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id GROUP BY T1.product_id HAVING avg(T1.rating) < 3.5 AND count(*) >= 5",
        ),
    ],
    "school": [
        ("easy", "How many students are enrolled at the school?", "SELECT count(*) FROM student"),
        (
            "medium",
            "List the names and salaries of teachers who teach Math.",
            "SELECT name, salary FROM teacher WHERE subject = 'Math'",
        ),
        ("easy", "How many students are in grade 12?", "SELECT count(*) FROM student WHERE grade_level = 12"),
        ("easy", "What is the average teacher salary?", "SELECT avg(salary) FROM teacher"),
        (
            "easy",
            "Which courses are for grade 9? Give their titles.",
            "SELECT title FROM course WHERE grade_level = 9",
        ),
        ("easy", "What subjects do the teachers teach?", "SELECT DISTINCT subject FROM teacher"),
        (
            "easy",
            "List the names of students born in 2010.",
            "SELECT name FROM student WHERE birth_year = 2010",
        ),
        (
            "medium",
            "How many teachers teach each subject?",
            "SELECT subject, count(*) FROM teacher GROUP BY subject",
        ),
        ("medium", "Who is the best paid teacher?", "SELECT name FROM teacher ORDER BY salary DESC LIMIT 1"),
        (
            "medium",
            "How many students are there in each grade level?",
            "SELECT grade_level, count(*) FROM student GROUP BY grade_level",
        ),
        (
            "medium",
            "List teacher names and hire years, most recently hired first.",
            "SELECT name, hire_year FROM teacher ORDER BY hire_year DESC",
        ),
        (
            "medium",
            "What are the lowest and highest scores ever given?",
            "SELECT min(score), max(score) FROM enrollment",
        ),
        (
            "medium",
            "How many courses does each teacher teach? Show teacher names.",
            "SELECT T2.name, count(*) FROM course AS T1 JOIN teacher AS T2 ON T1.teacher_id = T2.teacher_id GROUP BY T1.teacher_id",
        ),
        (
            "medium",
            "List the titles of courses taught by History teachers.",
            "SELECT T1.title FROM course AS T1 JOIN teacher AS T2 ON T1.teacher_id = T2.teacher_id WHERE T2.subject = 'History'",
        ),
        (
            "medium",
            "What is the average score in each course? Show course ids.",
            "SELECT course_id, avg(score) FROM enrollment GROUP BY course_id",
        ),
        (
            "easy",
            "Which subjects have more than 5 teachers?",
            "SELECT subject FROM teacher GROUP BY subject HAVING count(*) > 5",
        ),
        (
            "medium",
            "How many female students are in grade 10?",
            "SELECT count(*) FROM student WHERE gender = 'F' AND grade_level = 10",
        ),
        (
            "hard",
            "Which grade level has the most students?",
            "SELECT grade_level FROM student GROUP BY grade_level ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of students who are not enrolled in any course.",
            "SELECT name FROM student WHERE student_id NOT IN (SELECT student_id FROM enrollment)",
        ),
        (
            "hard",
            "Which teachers earn more than the average teacher? Give names.",
            "SELECT name FROM teacher WHERE salary > (SELECT avg(salary) FROM teacher)",
        ),
        (
            "hard",
            "Which subjects have teachers hired before 2000 and teachers hired after 2020?",
            "SELECT subject FROM teacher WHERE hire_year < 2000 INTERSECT SELECT subject FROM teacher WHERE hire_year > 2020",
        ),
        (
            "medium",
            "List the names of students who scored 100 in some course.",
            "SELECT DISTINCT T2.name FROM enrollment AS T1 JOIN student AS T2 ON T1.student_id = T2.student_id WHERE T1.score = 100",
        ),
        (
            "hard",
            "Which rooms are never used for grade 12 courses?",
            "SELECT room FROM course EXCEPT SELECT room FROM course WHERE grade_level = 12",
        ),
        (
            "extra",
            "Which teacher's courses have the most enrollments? Give the name.",
            "SELECT T3.name FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id JOIN teacher AS T3 ON T2.teacher_id = T3.teacher_id GROUP BY T3.teacher_id ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "What is the average score of students taught by each subject's teachers?",
            "SELECT T3.subject, avg(T1.score) FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id JOIN teacher AS T3 ON T2.teacher_id = T3.teacher_id GROUP BY T3.subject",
        ),
        (
            "extra",
            "For each grade level with more than 70 students, how many students are there, largest first?",
            "SELECT grade_level, count(*) FROM student GROUP BY grade_level HAVING count(*) > 70 ORDER BY count(*) DESC",
        ),
        (
            "extra",
            "Which students took both a Physics course and an Art course? Give names.",
            "SELECT T3.name FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id JOIN student AS T3 ON T1.student_id = T3.student_id WHERE T2.title LIKE 'Physics%' INTERSECT SELECT T3.name FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id JOIN student AS T3 ON T1.student_id = T3.student_id WHERE T2.title LIKE 'Art%'",
        ),
        (
            "extra",
            "List the names of the 3 students with the highest average score.",
            "SELECT T2.name FROM enrollment AS T1 JOIN student AS T2 ON T1.student_id = T2.student_id GROUP BY T1.student_id ORDER BY avg(T1.score) DESC LIMIT 3",
        ),
        (
            "hard",
            "How many enrollments with a score below 50 are in courses taught by teachers hired after 2015?",
            "SELECT count(*) FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id JOIN teacher AS T3 ON T2.teacher_id = T3.teacher_id WHERE T1.score < 50 AND T3.hire_year > 2015",
        ),
        (
            "medium",
            "Which courses have an average score above 70 with at least 25 students? Give titles.",
            "SELECT T2.title FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id GROUP BY T1.course_id HAVING avg(T1.score) > 70 AND count(*) >= 25",
        ),
    ],
    "sports_league": [
        ("easy", "How many teams are in the league?", "SELECT count(*) FROM team"),
        (
            "medium",
            "List the names and ages of centers.",
            "SELECT name, age FROM player WHERE position = 'center'",
        ),
        (
            "easy",
            "How many games were played in the 2022 season?",
            "SELECT count(*) FROM game WHERE season = 2022",
        ),
        ("easy", "What is the average player salary?", "SELECT avg(salary) FROM player"),
        (
            "easy",
            "Which teams play in Austin? Give their names.",
            "SELECT name FROM team WHERE city = 'Austin'",
        ),
        ("easy", "What positions do players play?", "SELECT DISTINCT position FROM player"),
        ("easy", "What is the highest home score ever recorded?", "SELECT max(home_score) FROM game"),
        (
            "medium",
            "How many players play each position?",
            "SELECT position, count(*) FROM player GROUP BY position",
        ),
        ("medium", "Who is the highest paid player?", "SELECT name FROM player ORDER BY salary DESC LIMIT 1"),
        (
            "medium",
            "How many games were played in each season?",
            "SELECT season, count(*) FROM game GROUP BY season",
        ),
        (
            "medium",
            "List team names and founding years, oldest team first.",
            "SELECT name, founded_year FROM team ORDER BY founded_year",
        ),
        ("medium", "What are the youngest and oldest player ages?", "SELECT min(age), max(age) FROM player"),
        (
            "medium",
            "How many players does each team have? Show team names.",
            "SELECT T2.name, count(*) FROM player AS T1 JOIN team AS T2 ON T1.team_id = T2.team_id GROUP BY T1.team_id",
        ),
        (
            "medium",
            "List the names of players on teams founded before 1950.",
            "SELECT T1.name FROM player AS T1 JOIN team AS T2 ON T1.team_id = T2.team_id WHERE T2.founded_year < 1950",
        ),
        (
            "medium",
            "What is the average number of points per player? Show player ids.",
            "SELECT player_id, avg(points) FROM player_stat GROUP BY player_id",
        ),
        (
            "easy",
            "Which positions have more than 55 players?",
            "SELECT position FROM player GROUP BY position HAVING count(*) > 55",
        ),
        (
            "medium",
            "How many guards are younger than 25?",
            "SELECT count(*) FROM player WHERE position = 'guard' AND age < 25",
        ),
        (
            "hard",
            "Which season had the most games?",
            "SELECT season FROM game GROUP BY season ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of players who never had 13 or more assists in a game.",
            "SELECT name FROM player WHERE player_id NOT IN (SELECT player_id FROM player_stat WHERE assists >= 13)",
        ),
        (
            "hard",
            "Which players earn more than the average player? Give names.",
            "SELECT name FROM player WHERE salary > (SELECT avg(salary) FROM player)",
        ),
        (
            "hard",
            "Which teams have both players older than 35 and players younger than 20? Give team ids.",
            "SELECT team_id FROM player WHERE age > 35 INTERSECT SELECT team_id FROM player WHERE age < 20",
        ),
        (
            "medium",
            "List the names of players who scored 40 or more points in a game.",
            "SELECT DISTINCT T2.name FROM player_stat AS T1 JOIN player AS T2 ON T1.player_id = T2.player_id WHERE T1.points >= 40",
        ),
        (
            "hard",
            "Which team ids never scored more than 125 points in a home game?",
            "SELECT team_id FROM team EXCEPT SELECT home_team_id FROM game WHERE home_score > 125",
        ),
        (
            "extra",
            "Which player has scored the most points in total? Give the name and total.",
            "SELECT T2.name, sum(T1.points) FROM player_stat AS T1 JOIN player AS T2 ON T1.player_id = T2.player_id GROUP BY T1.player_id ORDER BY sum(T1.points) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which team's players have the highest total salary? Give the team name.",
            "SELECT T2.name FROM player AS T1 JOIN team AS T2 ON T1.team_id = T2.team_id GROUP BY T1.team_id ORDER BY sum(T1.salary) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each position with more than 50 players, what is the average age, oldest first?",
            "SELECT position, avg(age) FROM player GROUP BY position HAVING count(*) > 50 ORDER BY avg(age) DESC",
        ),
        (
            "extra",
            "Which players had a game with 12 or more assists and also a game with 35 or more points? Give names.",
            "SELECT T2.name FROM player_stat AS T1 JOIN player AS T2 ON T1.player_id = T2.player_id WHERE T1.assists >= 12 INTERSECT SELECT T2.name FROM player_stat AS T1 JOIN player AS T2 ON T1.player_id = T2.player_id WHERE T1.points >= 35",
        ),
        (
            "extra",
            "List the names of the 5 players with the most total assists.",
            "SELECT T2.name FROM player_stat AS T1 JOIN player AS T2 ON T1.player_id = T2.player_id GROUP BY T1.player_id ORDER BY sum(T1.assists) DESC LIMIT 5",
        ),
        (
            "hard",
            "How many home games did teams from Oslo or Madrid win?",
            "SELECT count(*) FROM game AS T1 JOIN team AS T2 ON T1.home_team_id = T2.team_id WHERE T1.home_score > T1.away_score AND (T2.city = 'Oslo' OR T2.city = 'Madrid')",
        ),
        (
            "hard",
            "What is the average points per game of each team's players, by team name?",
            "SELECT T3.name, avg(T1.points) FROM player_stat AS T1 JOIN player AS T2 ON T1.player_id = T2.player_id JOIN team AS T3 ON T2.team_id = T3.team_id GROUP BY T3.team_id",
        ),
    ],
    "logistics": [
        ("easy", "How many warehouses are there?", "SELECT count(*) FROM warehouse"),
        (
            "medium",
            "List the names and countries of suppliers rated above 4.5.",
            "SELECT name, country FROM supplier WHERE rating > 4.5",
        ),
        ("easy", "How many shipments are delayed?", "SELECT count(*) FROM shipment WHERE status = 'delayed'"),
        ("easy", "What is the total capacity of all warehouses?", "SELECT sum(capacity) FROM warehouse"),
        (
            "easy",
            "Which items are in the electrical category? Give names.",
            "SELECT name FROM item WHERE category = 'electrical'",
        ),
        ("easy", "What shipment statuses occur?", "SELECT DISTINCT status FROM shipment"),
        ("easy", "What is the heaviest shipment weight?", "SELECT max(weight_kg) FROM shipment"),
        (
            "medium",
            "How many items are there in each category?",
            "SELECT category, count(*) FROM item GROUP BY category",
        ),
        (
            "medium",
            "Which warehouse has the largest capacity? Give its name.",
            "SELECT name FROM warehouse ORDER BY capacity DESC LIMIT 1",
        ),
        (
            "medium",
            "How many shipments go to each destination city?",
            "SELECT destination_city, count(*) FROM shipment GROUP BY destination_city",
        ),
        (
            "medium",
            "List supplier names and ratings, best rated first.",
            "SELECT name, rating FROM supplier ORDER BY rating DESC",
        ),
        (
            "medium",
            "What are the lightest and heaviest item unit weights?",
            "SELECT min(unit_weight_kg), max(unit_weight_kg) FROM item",
        ),
        (
            "medium",
            "How many shipments has each warehouse sent? Show warehouse names.",
            "SELECT T2.name, count(*) FROM shipment AS T1 JOIN warehouse AS T2 ON T1.warehouse_id = T2.warehouse_id GROUP BY T1.warehouse_id",
        ),
        (
            "medium",
            "List the names of items supplied by suppliers from Norway.",
            "SELECT T1.name FROM item AS T1 JOIN supplier AS T2 ON T1.supplier_id = T2.supplier_id WHERE T2.country = 'Norway'",
        ),
        (
            "medium",
            "What is the total stock quantity in each warehouse? Show warehouse ids.",
            "SELECT warehouse_id, sum(quantity) FROM stock GROUP BY warehouse_id",
        ),
        (
            "easy",
            "Which destination cities received more than 35 shipments?",
            "SELECT destination_city FROM shipment GROUP BY destination_city HAVING count(*) > 35",
        ),
        (
            "medium",
            "How many shipments heavier than 4000 kg were delivered?",
            "SELECT count(*) FROM shipment WHERE weight_kg > 4000 AND status = 'delivered'",
        ),
        (
            "hard",
            "Which item category has the most items?",
            "SELECT category FROM item GROUP BY category ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of items that are not stocked in any warehouse.",
            "SELECT name FROM item WHERE item_id NOT IN (SELECT item_id FROM stock)",
        ),
        (
            "hard",
            "Which shipments are heavier than the average shipment? Give ids.",
            "SELECT shipment_id FROM shipment WHERE weight_kg > (SELECT avg(weight_kg) FROM shipment)",
        ),
        (
            "hard",
            "Which destination cities had both a lost shipment and a delayed shipment?",
            "SELECT destination_city FROM shipment WHERE status = 'lost' INTERSECT SELECT destination_city FROM shipment WHERE status = 'delayed'",
        ),
        (
            "medium",
            "List the names of warehouses that stock more than 1900 units of some item.",
            "SELECT DISTINCT T2.name FROM stock AS T1 JOIN warehouse AS T2 ON T1.warehouse_id = T2.warehouse_id WHERE T1.quantity > 1900",
        ),
        (
            "hard",
            "Which supplier countries have no supplier rated below 2?",
            "SELECT country FROM supplier EXCEPT SELECT country FROM supplier WHERE rating < 2",
        ),
        (
            "extra",
            "Which warehouse holds the largest total quantity of stock? Give the name and the total.",
            "SELECT T2.name, sum(T1.quantity) FROM stock AS T1 JOIN warehouse AS T2 ON T1.warehouse_id = T2.warehouse_id GROUP BY T1.warehouse_id ORDER BY sum(T1.quantity) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which supplier supplies the most items? Give the name.",
            "SELECT T2.name FROM item AS T1 JOIN supplier AS T2 ON T1.supplier_id = T2.supplier_id GROUP BY T1.supplier_id ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each destination city with more than 30 shipments, what is the average weight, heaviest first?",
            "SELECT destination_city, avg(weight_kg) FROM shipment GROUP BY destination_city HAVING count(*) > 30 ORDER BY avg(weight_kg) DESC",
        ),
        (
            "extra",
            "Which warehouses stock both copper items and glass items? Give names.",
            "SELECT T3.name FROM stock AS T1 JOIN item AS T2 ON T1.item_id = T2.item_id JOIN warehouse AS T3 ON T1.warehouse_id = T3.warehouse_id WHERE T2.name LIKE 'Copper%' INTERSECT SELECT T3.name FROM stock AS T1 JOIN item AS T2 ON T1.item_id = T2.item_id JOIN warehouse AS T3 ON T1.warehouse_id = T3.warehouse_id WHERE T2.name LIKE 'Glass%'",
        ),
        (
            "extra",
            "List the names of the 3 warehouses that shipped the most total weight.",
            "SELECT T2.name FROM shipment AS T1 JOIN warehouse AS T2 ON T1.warehouse_id = T2.warehouse_id GROUP BY T1.warehouse_id ORDER BY sum(T1.weight_kg) DESC LIMIT 3",
        ),
        (
            "hard",
            "How many units of hardware items are stocked in warehouses with capacity above 30000?",
            "SELECT sum(T1.quantity) FROM stock AS T1 JOIN item AS T2 ON T1.item_id = T2.item_id JOIN warehouse AS T3 ON T1.warehouse_id = T3.warehouse_id WHERE T2.category = 'hardware' AND T3.capacity > 30000",
        ),
        (
            "medium",
            "What is the average unit weight of items by supplier country?",
            "SELECT T2.country, avg(T1.unit_weight_kg) FROM item AS T1 JOIN supplier AS T2 ON T1.supplier_id = T2.supplier_id GROUP BY T2.country",
        ),
    ],
    "film": [
        ("easy", "How many movies are in the database?", "SELECT count(*) FROM movie"),
        (
            "medium",
            "List the titles and release years of comedies.",
            "SELECT title, release_year FROM movie WHERE genre = 'Comedy'",
        ),
        (
            "easy",
            "How many directors are from Peru?",
            "SELECT count(*) FROM director WHERE nationality = 'Peru'",
        ),
        ("easy", "What is the average movie runtime?", "SELECT avg(runtime_min) FROM movie"),
        (
            "easy",
            "List the names of actors born after 1995.",
            "SELECT name FROM actor WHERE birth_year > 1995",
        ),
        ("easy", "What genres of movies are there?", "SELECT DISTINCT genre FROM movie"),
        ("easy", "What is the largest movie budget in millions?", "SELECT max(budget_musd) FROM movie"),
        (
            "medium",
            "How many movies are there in each genre?",
            "SELECT genre, count(*) FROM movie GROUP BY genre",
        ),
        (
            "medium",
            "What is the title of the longest movie?",
            "SELECT title FROM movie ORDER BY runtime_min DESC LIMIT 1",
        ),
        (
            "medium",
            "What is the average review score from each source?",
            "SELECT source, avg(score) FROM review_score GROUP BY source",
        ),
        (
            "medium",
            "List movie titles and budgets, biggest budget first.",
            "SELECT title, budget_musd FROM movie ORDER BY budget_musd DESC",
        ),
        (
            "medium",
            "What are the earliest and latest release years of Animation movies?",
            "SELECT min(release_year), max(release_year) FROM movie WHERE genre = 'Animation'",
        ),
        (
            "medium",
            "How many movies has each director made? Show director names.",
            "SELECT T2.name, count(*) FROM movie AS T1 JOIN director AS T2 ON T1.director_id = T2.director_id GROUP BY T1.director_id",
        ),
        (
            "medium",
            "List the titles of movies directed by directors from Japan.",
            "SELECT T1.title FROM movie AS T1 JOIN director AS T2 ON T1.director_id = T2.director_id WHERE T2.nationality = 'Japan'",
        ),
        (
            "medium",
            "How many roles of each kind are there in castings?",
            "SELECT role, count(*) FROM casting GROUP BY role",
        ),
        (
            "easy",
            "Which genres have more than 25 movies?",
            "SELECT genre FROM movie GROUP BY genre HAVING count(*) > 25",
        ),
        (
            "medium",
            "How many thrillers run longer than 150 minutes?",
            "SELECT count(*) FROM movie WHERE genre = 'Thriller' AND runtime_min > 150",
        ),
        (
            "hard",
            "Which genre has the most movies?",
            "SELECT genre FROM movie GROUP BY genre ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of actors who have never been cast as a lead.",
            "SELECT name FROM actor WHERE actor_id NOT IN (SELECT actor_id FROM casting WHERE role = 'lead')",
        ),
        (
            "hard",
            "Which movies have a bigger budget than the average movie? Give titles.",
            "SELECT title FROM movie WHERE budget_musd > (SELECT avg(budget_musd) FROM movie)",
        ),
        (
            "hard",
            "Which genres had movies released before 1985 and movies released after 2020?",
            "SELECT genre FROM movie WHERE release_year < 1985 INTERSECT SELECT genre FROM movie WHERE release_year > 2020",
        ),
        (
            "hard",
            "List the names of actors who appeared in Documentary movies.",
            "SELECT DISTINCT T3.name FROM casting AS T1 JOIN movie AS T2 ON T1.movie_id = T2.movie_id JOIN actor AS T3 ON T1.actor_id = T3.actor_id WHERE T2.genre = 'Documentary'",
        ),
        (
            "hard",
            "Which director nationalities have no director born after 1985?",
            "SELECT nationality FROM director EXCEPT SELECT nationality FROM director WHERE birth_year > 1985",
        ),
        (
            "extra",
            "Which director's movies have the highest total budget? Give the name and the total.",
            "SELECT T2.name, sum(T1.budget_musd) FROM movie AS T1 JOIN director AS T2 ON T1.director_id = T2.director_id GROUP BY T1.director_id ORDER BY sum(T1.budget_musd) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which actor has appeared in the most movies? Give the name.",
            "SELECT T2.name FROM casting AS T1 JOIN actor AS T2 ON T1.actor_id = T2.actor_id GROUP BY T1.actor_id ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each genre with more than 20 movies, what is the average runtime, longest first?",
            "SELECT genre, avg(runtime_min) FROM movie GROUP BY genre HAVING count(*) > 20 ORDER BY avg(runtime_min) DESC",
        ),
        (
            "extra",
            "Which actors appeared both in a Drama and in a Sci-Fi movie? Give names.",
            "SELECT T3.name FROM casting AS T1 JOIN movie AS T2 ON T1.movie_id = T2.movie_id JOIN actor AS T3 ON T1.actor_id = T3.actor_id WHERE T2.genre = 'Drama' INTERSECT SELECT T3.name FROM casting AS T1 JOIN movie AS T2 ON T1.movie_id = T2.movie_id JOIN actor AS T3 ON T1.actor_id = T3.actor_id WHERE T2.genre = 'Sci-Fi'",
        ),
        (
            "extra",
            "List the titles of the 5 movies with the highest average critics score.",
            "SELECT T2.title FROM review_score AS T1 JOIN movie AS T2 ON T1.movie_id = T2.movie_id WHERE T1.source = 'critics' GROUP BY T1.movie_id ORDER BY avg(T1.score) DESC LIMIT 5",
        ),
        (
            "medium",
            "How many lead roles are in movies released after 2010 with a budget over 100 million?",
            "SELECT count(*) FROM casting AS T1 JOIN movie AS T2 ON T1.movie_id = T2.movie_id WHERE T1.role = 'lead' AND T2.release_year > 2010 AND T2.budget_musd > 100",
        ),
        (
            "hard",
            "What is the average review score of movies by director nationality?",
            "SELECT T3.nationality, avg(T1.score) FROM review_score AS T1 JOIN movie AS T2 ON T1.movie_id = T2.movie_id JOIN director AS T3 ON T2.director_id = T3.director_id GROUP BY T3.nationality",
        ),
    ],
    "hr": [
        ("easy", "How many employees are there?", "SELECT count(*) FROM employee"),
        (
            "medium",
            "List the names and salaries of managers.",
            "SELECT name, salary FROM employee WHERE job_title = 'Manager'",
        ),
        (
            "easy",
            "How many employees were hired in 2020?",
            "SELECT count(*) FROM employee WHERE hire_year = 2020",
        ),
        ("easy", "What is the average salary?", "SELECT avg(salary) FROM employee"),
        (
            "easy",
            "Which departments are located in Berlin? Give their names.",
            "SELECT name FROM department WHERE location = 'Berlin'",
        ),
        ("easy", "What job titles exist in the company?", "SELECT DISTINCT job_title FROM employee"),
        ("easy", "What is the largest project budget?", "SELECT max(budget) FROM project"),
        (
            "medium",
            "How many employees hold each job title?",
            "SELECT job_title, count(*) FROM employee GROUP BY job_title",
        ),
        (
            "medium",
            "Who is the highest paid employee?",
            "SELECT name FROM employee ORDER BY salary DESC LIMIT 1",
        ),
        (
            "medium",
            "How many projects started in each year?",
            "SELECT start_year, count(*) FROM project GROUP BY start_year",
        ),
        (
            "medium",
            "List department names and budgets, largest budget first.",
            "SELECT name, budget FROM department ORDER BY budget DESC",
        ),
        (
            "medium",
            "What are the lowest and highest salaries of engineers?",
            "SELECT min(salary), max(salary) FROM employee WHERE job_title = 'Engineer'",
        ),
        (
            "medium",
            "How many employees work in each department? Show department names.",
            "SELECT T2.name, count(*) FROM employee AS T1 JOIN department AS T2 ON T1.department_id = T2.department_id GROUP BY T1.department_id",
        ),
        (
            "medium",
            "List the names of employees in the Research department.",
            "SELECT T1.name FROM employee AS T1 JOIN department AS T2 ON T1.department_id = T2.department_id WHERE T2.name = 'Research'",
        ),
        (
            "medium",
            "How many hours in total are assigned to each project? Show project ids.",
            "SELECT project_id, sum(hours) FROM assignment GROUP BY project_id",
        ),
        (
            "easy",
            "Which job titles are held by more than 40 employees?",
            "SELECT job_title FROM employee GROUP BY job_title HAVING count(*) > 40",
        ),
        (
            "medium",
            "How many analysts earn more than 100000?",
            "SELECT count(*) FROM employee WHERE job_title = 'Analyst' AND salary > 100000",
        ),
        (
            "hard",
            "Which job title is the most common?",
            "SELECT job_title FROM employee GROUP BY job_title ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the names of employees who are not assigned to any project.",
            "SELECT name FROM employee WHERE employee_id NOT IN (SELECT employee_id FROM assignment)",
        ),
        (
            "hard",
            "Which employees earn more than the average salary? Give names.",
            "SELECT name FROM employee WHERE salary > (SELECT avg(salary) FROM employee)",
        ),
        (
            "hard",
            "Which job titles have employees hired before 2007 and employees hired in 2023?",
            "SELECT job_title FROM employee WHERE hire_year < 2007 INTERSECT SELECT job_title FROM employee WHERE hire_year = 2023",
        ),
        (
            "medium",
            "List the names of employees working more than 350 hours on some project.",
            "SELECT DISTINCT T2.name FROM assignment AS T1 JOIN employee AS T2 ON T1.employee_id = T2.employee_id WHERE T1.hours > 350",
        ),
        (
            "hard",
            "Which department ids have no project with a budget over 800000?",
            "SELECT department_id FROM department EXCEPT SELECT department_id FROM project WHERE budget > 800000",
        ),
        (
            "extra",
            "Which department pays the most in total salaries? Give the name and the total.",
            "SELECT T2.name, sum(T1.salary) FROM employee AS T1 JOIN department AS T2 ON T1.department_id = T2.department_id GROUP BY T1.department_id ORDER BY sum(T1.salary) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which employee works the most hours across projects? Give the name.",
            "SELECT T2.name FROM assignment AS T1 JOIN employee AS T2 ON T1.employee_id = T2.employee_id GROUP BY T1.employee_id ORDER BY sum(T1.hours) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each job title with more than 30 employees, what is the average salary, highest first?",
            "SELECT job_title, avg(salary) FROM employee GROUP BY job_title HAVING count(*) > 30 ORDER BY avg(salary) DESC",
        ),
        (
            "extra",
            "Which employees work on projects of both the Sales and the Legal departments? Give names.",
            "SELECT T3.name FROM assignment AS T1 JOIN project AS T2 ON T1.project_id = T2.project_id JOIN employee AS T3 ON T1.employee_id = T3.employee_id WHERE T2.department_id = 2 INTERSECT SELECT T3.name FROM assignment AS T1 JOIN project AS T2 ON T1.project_id = T2.project_id JOIN employee AS T3 ON T1.employee_id = T3.employee_id WHERE T2.department_id = 6",
        ),
        (
            "extra",
            "List the names of the 3 projects with the most assigned employees.",
            "SELECT T2.name FROM assignment AS T1 JOIN project AS T2 ON T1.project_id = T2.project_id GROUP BY T1.project_id ORDER BY count(*) DESC LIMIT 3",
        ),
        (
            "hard",
            "How many engineers in Engineering or Research earn over 120000?",
            "SELECT count(*) FROM employee AS T1 JOIN department AS T2 ON T1.department_id = T2.department_id WHERE T1.job_title = 'Engineer' AND T1.salary > 120000 AND (T2.name = 'Engineering' OR T2.name = 'Research')",
        ),
        (
            "medium",
            "What is the average salary of the employees each manager manages? Show manager names.",
            "SELECT T2.name, avg(T1.salary) FROM employee AS T1 JOIN employee AS T2 ON T1.manager_id = T2.employee_id GROUP BY T1.manager_id",
        ),
    ],
    "music": [
        ("easy", "How many artists are there?", "SELECT count(*) FROM artist"),
        (
            "medium",
            "List the titles and release years of jazz albums.",
            "SELECT title, release_year FROM album WHERE genre = 'Jazz'",
        ),
        ("easy", "How many artists are from Japan?", "SELECT count(*) FROM artist WHERE country = 'Japan'"),
        ("easy", "What is the average track duration in seconds?", "SELECT avg(duration_sec) FROM track"),
        (
            "easy",
            "List the names of artists formed before 1970.",
            "SELECT name FROM artist WHERE formed_year < 1970",
        ),
        ("easy", "What album genres are there?", "SELECT DISTINCT genre FROM album"),
        ("easy", "What is the highest play count of any track?", "SELECT max(plays) FROM track"),
        (
            "medium",
            "How many albums are there in each genre?",
            "SELECT genre, count(*) FROM album GROUP BY genre",
        ),
        (
            "medium",
            "What is the title of the most played track?",
            "SELECT title FROM track ORDER BY plays DESC LIMIT 1",
        ),
        (
            "medium",
            "How many artists come from each country?",
            "SELECT country, count(*) FROM artist GROUP BY country",
        ),
        (
            "medium",
            "List album titles and release years, newest first.",
            "SELECT title, release_year FROM album ORDER BY release_year DESC",
        ),
        (
            "medium",
            "What are the shortest and longest track durations?",
            "SELECT min(duration_sec), max(duration_sec) FROM track",
        ),
        (
            "medium",
            "How many albums has each artist released? Show artist names.",
            "SELECT T2.name, count(*) FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id GROUP BY T1.artist_id",
        ),
        (
            "medium",
            "List the titles of albums by artists from Norway.",
            "SELECT T1.title FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id WHERE T2.country = 'Norway'",
        ),
        (
            "medium",
            "How many tracks does each playlist have? Show playlist ids.",
            "SELECT playlist_id, count(*) FROM playlist_track GROUP BY playlist_id",
        ),
        (
            "easy",
            "Which genres have more than 20 albums?",
            "SELECT genre FROM album GROUP BY genre HAVING count(*) > 20",
        ),
        (
            "medium",
            "How many tracks are longer than 8 minutes and have over a million plays?",
            "SELECT count(*) FROM track WHERE duration_sec > 480 AND plays > 1000000",
        ),
        (
            "hard",
            "Which genre has the most albums?",
            "SELECT genre FROM album GROUP BY genre ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "hard",
            "List the titles of tracks that are in no playlist.",
            "SELECT title FROM track WHERE track_id NOT IN (SELECT track_id FROM playlist_track)",
        ),
        (
            "hard",
            "Which tracks are played more than the average track? Give titles.",
            "SELECT title FROM track WHERE plays > (SELECT avg(plays) FROM track)",
        ),
        (
            "hard",
            "Which genres had albums released before 1975 and albums released after 2020?",
            "SELECT genre FROM album WHERE release_year < 1975 INTERSECT SELECT genre FROM album WHERE release_year > 2020",
        ),
        (
            "hard",
            "List the names of artists with a track played more than 1990000 times.",
            "SELECT DISTINCT T3.name FROM track AS T1 JOIN album AS T2 ON T1.album_id = T2.album_id JOIN artist AS T3 ON T2.artist_id = T3.artist_id WHERE T1.plays > 1990000",
        ),
        (
            "hard",
            "Which artist countries have no artist formed after 2015?",
            "SELECT country FROM artist EXCEPT SELECT country FROM artist WHERE formed_year > 2015",
        ),
        (
            "extra",
            "Which artist has the most plays in total? Give the name and the total.",
            "SELECT T3.name, sum(T1.plays) FROM track AS T1 JOIN album AS T2 ON T1.album_id = T2.album_id JOIN artist AS T3 ON T2.artist_id = T3.artist_id GROUP BY T3.artist_id ORDER BY sum(T1.plays) DESC LIMIT 1",
        ),
        (
            "extra",
            "Which album has the most tracks? Give the title.",
            "SELECT T2.title FROM track AS T1 JOIN album AS T2 ON T1.album_id = T2.album_id GROUP BY T1.album_id ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "extra",
            "For each genre with more than 15 albums, what is the average release year, most recent first?",
            "SELECT genre, avg(release_year) FROM album GROUP BY genre HAVING count(*) > 15 ORDER BY avg(release_year) DESC",
        ),
        (
            "extra",
            "Which artists released both a Rock album and a Folk album? Give names.",
            "SELECT T2.name FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id WHERE T1.genre = 'Rock' INTERSECT SELECT T2.name FROM album AS T1 JOIN artist AS T2 ON T1.artist_id = T2.artist_id WHERE T1.genre = 'Folk'",
        ),
        (
            "extra",
            "List the names of the 3 playlists with the longest total duration.",
            "SELECT T3.name FROM playlist_track AS T1 JOIN track AS T2 ON T1.track_id = T2.track_id JOIN playlist AS T3 ON T1.playlist_id = T3.playlist_id GROUP BY T1.playlist_id ORDER BY sum(T2.duration_sec) DESC LIMIT 3",
        ),
        (
            "medium",
            "How many tracks on Pop albums released after 2000 are longer than 5 minutes?",
            "SELECT count(*) FROM track AS T1 JOIN album AS T2 ON T1.album_id = T2.album_id WHERE T2.genre = 'Pop' AND T2.release_year > 2000 AND T1.duration_sec > 300",
        ),
        (
            "medium",
            "What is the average number of plays of tracks by album genre?",
            "SELECT T2.genre, avg(T1.plays) FROM track AS T1 JOIN album AS T2 ON T1.album_id = T2.album_id GROUP BY T2.genre",
        ),
    ],
}
